// The `peers` scenario (issue #9): every system of baselines/registry.ts — this system as shipped,
// Socket.IO + Redis adapter, the seeds' RabbitMQ designs — driven by the same load generators in the
// same run, one after another, each on a machine left quiet by the others (waitForQuiet). Per system:
//   1. idle memory: RSS of its processes before and after N idle sockets (KiB per connection);
//   2. W1 (docs/benchmarks.md): N users, half on each of 2 servers, random DMs of ~100 bytes, paced open
//      loop at a sweep of rates; offered/delivered msg/s, p50/p99/max send → receive, lost (not received
//      5 s after the step), acked vs stored where durable, CPU µs per delivered message per process, knee;
//   3. W2 through the PeerSystem API: one group of G members, one sender at 10/50/100 msg/s, latency
//      from the send to every member's copy, copies lost.
// Saves bench/results/peers.md + JSON (full runs), or the JSON alone to --json PATH.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { SnowflakeGenerator } from '@chat/router';
import { amqpUrl } from '@chat/testkit';
import type { PeerChannel, PeerInstance, PeerSystem } from './baselines/peer.js';
import { peerTokens } from './baselines/peer-tokens.js';
import { peerSystems } from './baselines/registry.js';
import { ChildHandle, closeLoaderSockets, stopLoaders } from './lib/child.js';
import { dmPairs } from './lib/dm-pairs.js';
import { type LoaderReport, type MergedStep, mergeReports } from './lib/loader-reports.js';
import { defineScenario, type ScenarioOutcome } from './lib/scenario.js';
import { redisPid, runPrefix } from './lib/services.js';
import { epochMs, type LatencySummary, sleep } from './lib/stats.js';
import {
  CpuMeter,
  type CpuReading,
  otherLoadNote,
  type ProcessSet,
  printSystem,
  rssKiB,
  systemBrokerPid,
  waitForQuiet,
} from './lib/system.js';
import { type Cell, fmt, formatTable, pct, ratio } from './lib/table.js';

const scenario = defineScenario({
  name: 'peers',
  summary: 'Peers: this system vs Socket.IO + Redis adapter vs the seeds’ designs: W1 sweep, W2, idle memory, same run',
  flags: {
    systems: { type: 'string', help: 'comma-separated systems to run (default: all, listed below)' },
    rates: {
      type: 'ints',
      default: [1000, 2000, 4000, 8000, 16000],
      min: 10,
      max: 100_000,
      help: 'W1 DM rates, msg/s',
    },
    'step-s': { type: 'int', default: 15, min: 1, max: 120, help: 'seconds per step' },
    clients: { type: 'int', default: 1000, min: 4, max: 10_000, help: 'users (WebSocket clients)' },
    partners: { type: 'int', default: 4, min: 1, max: 32, help: 'DM partners per user (rounds of random pairing)' },
    idle: { type: 'int', default: 2000, min: 0, max: 20_000, help: 'idle sockets for the memory reading' },
    'group-rates': { type: 'ints', default: [10, 50, 100], min: 1, max: 1000, help: 'W2 group rates, msg/s' },
    'group-size': {
      type: 'int',
      min: 2,
      max: 10_000,
      help: 'W2 group members (default: --clients, at most --clients)',
    },
    json: { type: 'string', help: 'also write the data to this file' },
  },
  quick: { rates: [100, 200], 'step-s': 3, clients: 40, idle: 50, 'group-rates': [10] },
  limitMinutes: 180,
  notes: [`systems: ${peerSystems.map((s) => s.name).join(', ')}`],
});
const {
  rates: RATES,
  'step-s': STEP_S,
  clients: CLIENTS,
  partners: PARTNERS,
  idle: IDLE,
  'group-rates': GROUP_RATES,
  json: JSON_PATH,
} = scenario.flags;
const quick = scenario.quick;
const GROUP_SIZE = scenario.flags['group-size'] ?? CLIENTS;
if (GROUP_SIZE > CLIENTS) scenario.usageError(`--group-size must be an integer in 2..${CLIENTS}, got '${GROUP_SIZE}'`);
const SYSTEMS: PeerSystem[] = (() => {
  const systems = scenario.flags.systems;
  if (systems === undefined) return [...peerSystems];
  const names = systems.split(',');
  const unknown = names.filter((n) => !peerSystems.some((s) => s.name === n));
  if (unknown.length > 0) {
    scenario.usageError(`unknown system(s) ${unknown.join(', ')}; known: ${peerSystems.map((s) => s.name).join(', ')}`);
  }
  return names.map((n) => peerSystems.find((s) => s.name === n)!);
})();
const SERVERS = 2;
/** docs/benchmarks.md: lost = not received 5 s after the step (the quick smoke run waits 2 s; acked-lost is judged after the drain). */
const GRACE_MS = quick ? 2000 : 5000;
/** After the grace period: until every request is answered (and, durable, stored), at most this long. */
const DRAIN_LIMIT_MS = quick ? 20_000 : 60_000;
/** Bounded wait for a lull before each step; the quick smoke run does not wait. */
const QUIET_WAIT_MS = quick ? 0 : 60_000;
const TARGET_P99_MS = 100;
/** Idle memory: from start to the first reading (the gateway runs an idle collection after start-up), then sockets open this long. */
const IDLE_SETTLE_MS = quick ? 2000 : 15_000;
const IDLE_OPEN_MS = quick ? 1000 : 10_000;
const BROKER = amqpUrl();

interface IdleResult {
  sockets: number;
  opened: number;
  /** Per process label: RSS KiB before and after. */
  before: Record<string, number | undefined>;
  after: Record<string, number | undefined>;
  kibPerSocket: number;
}

interface SweepStep {
  rate: number;
  sentPerSec: number;
  deliveredPerSec: number;
  sent: number;
  acked: number;
  refused: number;
  otherErrors: number;
  /** Sent, not refused, not received by the end of the grace period. */
  lost: number;
  /** Acked and never received, judged after the drain. */
  ackedLost: number;
  dupMsgs: number;
  stored: number | undefined;
  latency: LatencySummary;
  ackLatency: LatencySummary;
  cpu: CpuReading;
  closedSockets: number;
  quietStart: boolean;
}

interface GroupStep {
  rate: number;
  members: number;
  sent: number;
  acked: number;
  refused: number;
  expectedCopies: number;
  copies: number;
  lostCopies: number;
  copiesPerSec: number;
  latency: LatencySummary;
  cpu: CpuReading;
  quietStart: boolean;
}

interface SystemResult {
  name: string;
  description: string;
  durable: boolean;
  protocol: string;
  processes: string[];
  idle?: IdleResult;
  sweep: SweepStep[];
  knee: number | undefined;
  group: GroupStep[];
  error?: string;
}

/** The workload every system gets: users, DM pairs (K rounds of a seeded random matching), one group. */
function workload() {
  const users = Array.from({ length: CLIENTS }, (_, i) => `u${i}`);
  const ids = new SnowflakeGenerator({ workerId: 1021 });
  const dms = dmPairs(CLIENTS, PARTNERS).map(([a, b]) => ({ id: ids.nextSync(), a, b }));
  const group: PeerChannel = { id: ids.nextSync(), members: users.slice(0, GROUP_SIZE) };
  const channels: PeerChannel[] = [...dms.map((d) => ({ id: d.id, members: [users[d.a]!, users[d.b]!] })), group];
  const dmsOf: string[][] = users.map(() => []);
  for (const d of dms) {
    dmsOf[d.a]!.push(d.id);
    dmsOf[d.b]!.push(d.id);
  }
  return { users, channels, dmsOf, group };
}

/** One load-generator process per server, speaking the system's protocol, each from its own source address. */
function startLoaders(instance: PeerInstance): ChildHandle[] {
  const module = instance.protocol === 'socketio' ? './lib/socketio-loadgen.ts' : './lib/ws-loadgen.ts';
  return instance.urls.map((_, g) => new ChildHandle(`lg${g}`, new URL(module, import.meta.url)));
}

/**
 * Connects one socket per entry of `users` (user numbers; token of user n mod the token count), entry i
 * on server i mod S through loader i mod S. Resolves with each loader's users and the sockets connected.
 */
async function connect(
  instance: PeerInstance,
  loaders: readonly ChildHandle[],
  users: readonly number[],
  tokens: readonly string[],
): Promise<{ mine: number[][]; ready: number }> {
  const mine = loaders.map((_, g) => users.filter((_, i) => i % loaders.length === g));
  const opened = await Promise.all(
    loaders.map((lg, g) =>
      lg.call<{ ready: number }>(
        'open',
        {
          url: instance.urls[g],
          localAddress: `127.0.0.${31 + g}`,
          clients: mine[g]!.map((n) => ({ token: tokens[n % tokens.length], user: n })),
          concurrency: 100,
        },
        5 * 60_000,
      ),
    ),
  );
  return { mine, ready: opened.reduce((n, o) => n + o.ready, 0) };
}

function rssOf(instance: PeerInstance): Record<string, number | undefined> {
  return Object.fromEntries(instance.processes.map((p) => [p.label, rssKiB(p.pid)]));
}

const rssSum = (x: Record<string, number | undefined>) => Object.values(x).reduce<number>((n, v) => n + (v ?? 0), 0);

/** RSS once it has settled: three readings 1 s apart within 0.5% of each other (at most IDLE_SETTLE_MS). */
async function settledRss(instance: PeerInstance): Promise<Record<string, number | undefined>> {
  const started = performance.now();
  const sums = [rssSum(rssOf(instance))];
  for (;;) {
    await sleep(1000);
    const now = rssOf(instance);
    sums.push(rssSum(now));
    const last = sums.slice(-3);
    const steady = last.length === 3 && Math.max(...last) - Math.min(...last) <= Math.min(...last) * 0.005;
    if (steady || performance.now() - started >= IDLE_SETTLE_MS) return now;
  }
}

/**
 * KiB of RSS per idle socket over all the system's processes: a first batch of sockets is connected and
 * closed (start-up garbage collected, connection paths warm), then RSS once settled, then `IDLE` sockets.
 */
async function measureIdle(
  instance: PeerInstance,
  loaders: readonly ChildHandle[],
  tokens: readonly string[],
): Promise<IdleResult> {
  const users = (n: number) => Array.from({ length: n }, (_, i) => i);
  try {
    await connect(instance, loaders, users(Math.min(IDLE, 200)), tokens);
    await closeLoaderSockets(loaders);
    const before = await settledRss(instance);
    const { ready } = await connect(instance, loaders, users(IDLE), tokens);
    await sleep(IDLE_OPEN_MS);
    const after = rssOf(instance);
    const kibPerSocket = ready > 0 ? (rssSum(after) - rssSum(before)) / ready : Number.NaN;
    return { sockets: IDLE, opened: ready, before, after, kibPerSocket };
  } finally {
    await closeLoaderSockets(loaders);
  }
}

async function runSystem(
  system: PeerSystem,
  work: ReturnType<typeof workload>,
  secret: string,
  tokens: string[],
  shared: ProcessSet,
  onInstance: (i: PeerInstance | undefined, loaders: ChildHandle[]) => void,
): Promise<SystemResult> {
  const result: SystemResult = {
    name: system.name,
    description: system.description,
    durable: system.durable,
    protocol: '',
    processes: [],
    sweep: [],
    knee: undefined,
    group: [],
  };
  console.log(`\n== ${system.name}: ${system.description}`);
  const instance = await system.start({
    users: work.users,
    channels: work.channels,
    jwtSecret: secret,
    servers: SERVERS,
    prefix: runPrefix(`peers-${system.name}`),
  });
  onInstance(instance, []);
  result.protocol = instance.protocol;
  result.processes = instance.processes.map((p) => p.label);
  const loaders = startLoaders(instance);
  onInstance(instance, loaders);
  try {
    if (IDLE > 0) {
      result.idle = await measureIdle(instance, loaders, tokens);
      console.log(
        `  idle: ${result.idle.opened} of ${IDLE} sockets, ${fmt(result.idle.kibPerSocket)} KiB RSS per socket (all its processes)`,
      );
    }
    const users = work.users.map((_, i) => i);
    const opened = await connect(instance, loaders, users, tokens);
    if (opened.ready < CLIENTS) throw new Error(`only ${opened.ready} of ${CLIENTS} clients connected`);
    const procs: ProcessSet = {
      ...Object.fromEntries(instance.processes.map((p) => [p.label, p.pid])),
      ...shared,
      ...Object.fromEntries(loaders.map((lg, g) => [`lg${g}`, lg.pid])),
      bench: process.pid,
    };
    const configure = (channelsOf: (n: number) => string[]) =>
      Promise.all(loaders.map((lg, g) => lg.call('configure', { channels: opened.mine[g]!.map(channelsOf) })));
    const collect = async (windowS: number) =>
      mergeReports(await Promise.all(loaders.map((lg) => lg.call<LoaderReport>('report', {}, 60_000))), windowS);
    const unanswered = async () => {
      const p = await Promise.all(loaders.map((lg) => lg.call<{ sent: number; answered: number }>('progress')));
      return p.reduce((n, x) => n + x.sent - x.answered, 0);
    };
    /** One open-loop step: `senders` loaders send `rate` in total; everything measured over the send window. */
    const step = async (
      tag: string,
      rate: number,
      senders: readonly number[],
      everyCopy: boolean,
      durationS = STEP_S,
    ) => {
      const quiet = QUIET_WAIT_MS > 0 ? await waitForQuiet(procs, QUIET_WAIT_MS) : { quiet: false };
      const t0 = epochMs();
      await Promise.all(loaders.map((lg) => lg.call('track', { tag, t0, everyCopy })));
      const storedBefore = instance.stored ? await instance.stored() : undefined;
      const cpu = new CpuMeter(procs);
      const runs = await Promise.all(
        senders.map((g) =>
          loaders[g]!.call<{ sent: number; ms: number }>(
            'run',
            { tag, rate: rate / senders.length, durationMs: durationS * 1000, lg: g },
            durationS * 1000 + 60_000,
          ),
        ),
      );
      const reading = cpu.stop();
      await sleep(GRACE_MS);
      const atGrace = await collect(durationS);
      // Drain: every request answered, durable: every acked message stored, and no new copy for 1 s
      // (bounded); then the receipts again, so that acked-lost means never delivered rather than late.
      const started = performance.now();
      let stored = storedBefore;
      let copies = atGrace.copies;
      while (performance.now() - started < DRAIN_LIMIT_MS) {
        await sleep(1000);
        stored = instance.stored && storedBefore !== undefined ? (await instance.stored()) - storedBefore : undefined;
        const now = await collect(durationS);
        const quietInbound = now.copies === copies;
        copies = now.copies;
        if (quietInbound && (await unanswered()) === 0 && (stored === undefined || stored >= now.shedding.acked)) break;
      }
      const drained = await collect(durationS);
      const sendMs = Math.max(...runs.map((r) => r.ms));
      return { atGrace, drained, stored, cpu: reading, sendMs, quiet: quiet.quiet };
    };

    // ---- W1 sweep ----
    await configure((n) => work.dmsOf[n]!);
    if (!quick) {
      // Fills caches (ours: the membership cache) and JIT before the first measured step.
      console.log(`  warm-up: 5 s at ${RATES[0]} msg/s, not reported`);
      await step('warm', RATES[0]!, [...loaders.keys()], false, 5);
    }
    for (const rate of RATES) {
      const s = await step(`r${rate}`, rate, [...loaders.keys()], false);
      const m: MergedStep = s.atGrace;
      const r: SweepStep = {
        rate,
        sentPerSec: m.sent / (s.sendMs / 1000),
        deliveredPerSec: m.inWindow / STEP_S,
        sent: m.sent,
        acked: s.drained.shedding.acked,
        refused: m.shedding.refused,
        otherErrors: m.shedding.otherErrors,
        lost: m.sent - m.shedding.refused - m.unique,
        ackedLost: s.drained.shedding.ackedLost,
        dupMsgs: m.duplicated,
        stored: s.stored,
        latency: m.latency,
        ackLatency: m.ackLatency,
        cpu: s.cpu,
        closedSockets: m.closedSockets,
        quietStart: s.quiet,
      };
      result.sweep.push(r);
      console.log(
        `  R ${String(rate).padStart(6)}: sent ${fmt(r.sentPerSec)}/s delivered ${fmt(r.deliveredPerSec)}/s p50 ${fmt(r.latency.p50Ms)} ms ` +
          `p99 ${fmt(r.latency.p99Ms)} ms max ${fmt(r.latency.maxMs)} ms lost ${r.lost} acked ${r.acked} acked-lost ${r.ackedLost}` +
          `${r.stored === undefined ? '' : ` stored ${r.stored}`} refused ${r.refused} errors ${r.otherErrors}`,
      );
    }
    const ok = result.sweep.filter(meets).map((s) => s.rate);
    result.knee = ok.length > 0 ? Math.max(...ok) : undefined;

    // ---- W2: one sender (u0, on loader 0) to a group of GROUP_SIZE ----
    await configure((n) => (n === 0 ? [work.group.id] : []));
    for (const rate of GROUP_RATES) {
      const s = await step(`g${rate}`, rate, [0], true);
      const m = s.atGrace;
      // Refused messages (`overloaded`: shed, never sent on) are expected nowhere; every other message at every member.
      const expected = (m.sent - m.shedding.refused) * (work.group.members.length - 1);
      const g: GroupStep = {
        rate,
        members: work.group.members.length,
        sent: m.sent,
        acked: s.drained.shedding.acked,
        refused: m.shedding.refused,
        expectedCopies: expected,
        copies: m.copies,
        lostCopies: Math.max(0, expected - m.copies),
        copiesPerSec: m.copies / STEP_S,
        latency: m.latency,
        cpu: s.cpu,
        quietStart: s.quiet,
      };
      result.group.push(g);
      console.log(
        `  W2 ${rate} msg/s to ${g.members}: copies ${g.copies} of ${expected}, p50 ${fmt(g.latency.p50Ms)} ms p99 ${fmt(g.latency.p99Ms)} ms max ${fmt(g.latency.maxMs)} ms`,
      );
    }
    return result;
  } finally {
    await stopLoaders(loaders);
    onInstance(undefined, []);
    await instance
      .stop()
      .catch((err: unknown) => console.error(`  stopping ${system.name} failed: ${(err as Error).message}`));
  }
}

const meets = (s: SweepStep) =>
  s.lost === 0 && s.ackedLost === 0 && s.refused === 0 && s.otherErrors === 0 && s.latency.p99Ms < TARGET_P99_MS;

/** µs of CPU per delivered message for each process of a step (CPU % of one core → µs/s ÷ delivered/s). */
function cpuPerDelivered(step: SweepStep, label: string): number | undefined {
  const p = step.cpu.percent[label];
  return p === undefined || !(step.deliveredPerSec > 0) ? undefined : ((p / 100) * 1e6) / step.deliveredPerSec;
}

/** A system's process labels plus the shared broker and Redis (once: a system may list Redis as its own). */
const withShared = (labels: readonly string[]) => [...new Set([...labels, 'broker', 'redis'])];

/** µs of CPU per delivered message of the system's processes plus the broker and Redis. */
function systemCpuPerMessage(r: SystemResult, s: SweepStep): number | undefined {
  const per = withShared(r.processes).map((l) => cpuPerDelivered(s, l));
  return per.some((v) => v !== undefined) ? per.reduce<number>((n, v) => n + (v ?? 0), 0) : undefined;
}

/**
 * Every system against the reference (`ours` when it ran, else the first), figures of the same run:
 * knee, CPU per delivered message at each rate both were offered, idle KiB per socket, W2 p99.
 */
function ratiosTable(results: readonly SystemResult[]): string | undefined {
  const ok = results.filter((r) => !r.error);
  const ref = ok.find((r) => r.name === 'ours') ?? ok[0];
  if (!ref || ok.length < 2) return undefined;
  const x = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '—' : ratio(a, b));
  return formatTable(
    [
      'system',
      `knee / ${ref.name}`,
      ...ref.sweep.map((s) => `CPU µs per msg at ${fmt(s.rate)}/s / ${ref.name}`),
      `idle KiB per socket / ${ref.name}`,
      ...ref.group.map((g) => `W2 p99 at ${g.rate}/s / ${ref.name}`),
    ],
    ok
      .filter((r) => r !== ref)
      .map((r): Cell[] => [
        r.name,
        x(r.knee, ref.knee),
        ...ref.sweep.map((rs) => {
          const s = r.sweep.find((o) => o.rate === rs.rate);
          return s ? x(systemCpuPerMessage(r, s), systemCpuPerMessage(ref, rs)) : '—';
        }),
        x(r.idle?.kibPerSocket, ref.idle?.kibPerSocket),
        ...ref.group.map((rg) => x(r.group.find((g) => g.rate === rg.rate)?.latency.p99Ms, rg.latency.p99Ms)),
      ]),
  );
}

function tables(results: readonly SystemResult[]) {
  const sweep = formatTable(
    [
      'system',
      'R msg/s',
      'sent/s',
      'delivered/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'lost',
      'acked',
      'acked-lost',
      'stored',
      'refused',
      'errors',
      'dup msgs',
      'p99<100, no loss',
      'other CPU',
    ],
    results.flatMap((r) =>
      r.sweep.map((s): Cell[] => [
        r.name,
        s.rate,
        s.sentPerSec,
        s.deliveredPerSec,
        s.latency.p50Ms,
        s.latency.p99Ms,
        s.latency.maxMs,
        s.lost,
        s.acked,
        s.ackedLost,
        s.stored ?? '—',
        s.refused,
        s.otherErrors,
        s.dupMsgs,
        meets(s),
        pct(s.cpu.others),
      ]),
    ),
  );
  const summary = formatTable(
    ['system', 'durable', 'knee msg/s (p99 < 100 ms, no loss)', 'idle KiB / socket', 'W2 p99 ms at each rate'],
    results.map((r): Cell[] => [
      r.name,
      r.durable,
      r.error ? `failed: ${r.error.slice(0, 60)}` : (r.knee ?? 'none'),
      r.idle?.kibPerSocket,
      r.group.map((g) => `${g.rate}/s: ${fmt(g.latency.p99Ms)}`).join(', ') || '—',
    ]),
  );
  const cpu = results.map((r) => {
    if (r.sweep.length === 0) return undefined;
    const labels = [...withShared(r.processes), 'lg0', 'lg1'];
    return formatTable(
      ['R msg/s', 'delivered/s', ...labels.map((l) => `${l} µs`), 'own processes µs', 'own + broker + Redis µs'],
      r.sweep.map((s): Cell[] => {
        const per = labels.map((l) => cpuPerDelivered(s, l));
        const sum = (list: readonly string[]) => list.reduce((n, l) => n + (cpuPerDelivered(s, l) ?? 0), 0);
        return [s.rate, s.deliveredPerSec, ...per.map((v) => v ?? '—'), sum(r.processes), sum(withShared(r.processes))];
      }),
    );
  });
  const group = formatTable(
    [
      'system',
      'R2 msg/s',
      'members',
      'sent',
      'acked',
      'refused',
      'copies',
      'of expected',
      'lost copies',
      'copies/s',
      'p50 ms',
      'p99 ms',
      'max ms',
    ],
    results.flatMap((r) =>
      r.group.map((g): Cell[] => [
        r.name,
        g.rate,
        g.members,
        g.sent,
        g.acked,
        g.refused,
        g.copies,
        g.expectedCopies,
        g.lostCopies,
        g.copiesPerSec,
        g.latency.p50Ms,
        g.latency.p99Ms,
        g.latency.maxMs,
      ]),
    ),
  );
  const idle = formatTable(
    ['system', 'sockets', 'connected', 'RSS before KiB', 'RSS after KiB', 'KiB / socket'],
    results
      .filter((r) => r.idle)
      .map((r): Cell[] => {
        return [
          r.name,
          r.idle!.sockets,
          r.idle!.opened,
          rssSum(r.idle!.before),
          rssSum(r.idle!.after),
          r.idle!.kibPerSocket,
        ];
      }),
  );
  return { summary, ratios: ratiosTable(results), sweep, cpu, group, idle };
}

async function main({ command, startedAt }: { command: string; startedAt: Date }): Promise<ScenarioOutcome> {
  const work = workload();
  const secret = randomBytes(32).toString('hex');
  const [info, broker, redis, tokens] = await Promise.all([
    printSystem(BROKER),
    systemBrokerPid(),
    redisPid(),
    peerTokens(secret, work.users),
  ]);
  const system = info.line;
  const shared: ProcessSet = { broker, redis };
  console.log(
    `${CLIENTS} users, ${work.channels.length - 1} DM channels, one group of ${GROUP_SIZE}; systems: ${SYSTEMS.map((s) => s.name).join(', ')}; ` +
      `W1 rates ${RATES.join(', ')} msg/s, W2 rates ${GROUP_RATES.join(', ')} msg/s, ${STEP_S} s each; idle ${IDLE} sockets`,
  );

  // Ctrl-C: stop the loaders and the running system, then leave.
  let current: { instance?: PeerInstance; loaders: ChildHandle[] } = { loaders: [] };
  const onSignal = () => {
    console.error('peers: interrupted; stopping the running system');
    void (async () => {
      await stopLoaders(current.loaders).catch(() => {});
      await current.instance?.stop().catch(() => {});
      process.exit(130);
    })();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const results: SystemResult[] = [];
  for (const s of SYSTEMS) {
    try {
      results.push(
        await runSystem(s, work, secret, tokens, shared, (instance, loaders) => {
          current = { instance, loaders };
        }),
      );
    } catch (err) {
      console.error(`  ${s.name} failed: ${(err as Error).stack ?? err}`);
      results.push({
        name: s.name,
        description: s.description,
        durable: s.durable,
        protocol: '',
        processes: [],
        sweep: [],
        knee: undefined,
        group: [],
        error: (err as Error).message,
      });
    }
  }

  const t = tables(results);
  console.log(`\n${t.summary}\n\n${t.ratios ? `${t.ratios}\n\n` : ''}${t.sweep}\n\n${t.group}\n\n${t.idle}\n`);
  results.forEach((r, i) => {
    if (t.cpu[i]) console.log(`µs of CPU per delivered message, ${r.name}:\n${t.cpu[i]}\n`);
  });
  const notes = [
    `Same run, same load generators: ${SYSTEMS.length} systems one after another, each with 2 server processes and ${CLIENTS} users (user i on server i mod 2, one socket each), ` +
      `${work.channels.length - 1} DM channels (${PARTNERS} rounds of random pairing) and one group of ${GROUP_SIZE}. Each send picks a random connected client of the loader and one of its DMs; ~100-byte contents; paced by a 5 ms timer (open loop).`,
    `Latency = send (loader clock) → MESSAGE_CREATE at the recipient's socket (other process, same machine clock), every message, HDR. lost = sent, not refused, and not received ${GRACE_MS / 1000} s after the step; ` +
      `acked-lost = acked and never received, judged after the drain (every request answered, durable systems: every acked message stored, and no new copy for 1 s; ≤ ${DRAIN_LIMIT_MS / 1000} s); stored = messages the system stored during the step (durable systems).`,
    `Knee = highest R with p99 < ${TARGET_P99_MS} ms, nothing lost, nothing refused, no errors. CPU µs per delivered message = CPU % of one core / 100 × 10⁶ / delivered per second, over the send window; ` +
      'broker and Redis are the machine’s shared services, measured during every system’s steps: the Socket.IO peer uses only Redis (its broker column is the idle broker), ours uses both; “own processes” leaves both out.',
    'Loaders: the gateway protocol is driven by lib/ws-loadgen.ts (frames matched as strings), Socket.IO by lib/socketio-loadgen.ts (socket.io-client, which decodes every packet): ' +
      'the Socket.IO loader costs more CPU per message, and on this 2-core machine that CPU is taken from the servers; the lg0/lg1 columns show it.',
    `W2: one sender (u0) at R2 msg/s to the group; latency to every member's copy (every copy recorded); lost copies = (sent − refused) × (members − 1) − copies received ${GRACE_MS / 1000} s after the step.`,
    `Idle memory: ${Math.min(IDLE, 200)} sockets connected and closed first (start-up garbage, warm paths), then RSS (VmRSS) of every process of the system once settled (three readings 1 s apart within 0.5%, at most ${IDLE_SETTLE_MS / 1000} s), then after ${IDLE} idle sockets had been open ${IDLE_OPEN_MS / 1000} s; KiB per socket = Δ sum / sockets connected (per process in the JSON). No forced GC.`,
    'Each step waits (bounded) for a lull in other processes’ CPU before it starts; "other CPU" is the load of other people on this shared machine during the send window.',
    otherLoadNote(results.flatMap((r) => [...r.sweep.map((s) => s.cpu), ...r.group.map((g) => g.cpu)])),
  ];
  for (const n of notes) console.log(`- ${n}`);
  const params = {
    systems: SYSTEMS.map((s) => s.name),
    rates: RATES,
    stepS: STEP_S,
    clients: CLIENTS,
    partners: PARTNERS,
    idle: IDLE,
    groupRates: GROUP_RATES,
    groupSize: GROUP_SIZE,
    graceMs: GRACE_MS,
    quick,
  };
  if (JSON_PATH) {
    writeFileSync(
      JSON_PATH,
      `${JSON.stringify({ scenario: 'peers', command, system, startedAt, params, notes, data: { results } }, null, 2)}\n`,
    );
    console.log(`wrote ${JSON_PATH}`);
  }
  return {
    code: results.some((r) => r.error) ? 1 : 0,
    results: {
      title: 'Peers — this system, Socket.IO + Redis adapter and the seeds’ designs, same load generator, same run',
      description:
        'W1 (DMs, 2 servers, 1,000 users, rate sweep), W2 (one group of 1,000, one sender) and idle memory per socket, ' +
        'for every system of bench/baselines/registry.ts, one after another on a quiet machine. **This system’s MongoDB is the in-memory stand-in.**',
      system,
      params,
      tables: [
        { heading: 'Summary', markdown: t.summary },
        ...(t.ratios
          ? [
              {
                heading:
                  'Ratios to the reference system (ours when it ran, else the first), same run: > 1× = more than the reference',
                markdown: t.ratios,
              },
            ]
          : []),
        { heading: 'W1 sweep', markdown: t.sweep },
        ...results.flatMap((r, i) =>
          t.cpu[i] ? [{ heading: `µs of CPU per delivered message, ${r.name}`, markdown: t.cpu[i] }] : [],
        ),
        { heading: 'W2 — one group, one sender', markdown: t.group },
        { heading: 'Idle memory', markdown: t.idle },
      ],
      notes,
      data: { results },
    },
  };
}

scenario.run(main);
