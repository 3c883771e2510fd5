// BENCHMARKS.md W3 — idle connections: the resident memory (VmRSS) of ONE gateway process before and
// after N idle, identified WebSocket clients (default 10,000), opened from several load-generator
// processes (≤ 5,000 sockets each, each from its own 127.0.0.x source address); KiB per connection.
// Then as many as one gateway can hold on this machine (50,000 asked; the open-file limit decides).
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { amqpUrl } from '@chat/testkit';
import { flags, intFlag } from './lib/args.js';
import { ChildHandle } from './lib/child.js';
import { commandLine } from './lib/command.js';
import { scrape } from './lib/prom.js';
import { saveResults } from './lib/results.js';
import {
  cleanupRun,
  type GatewayService,
  REDIS_URL,
  redisPid,
  runPrefix,
  STAND_IN_NOTE,
  type StackEnv,
  startGateway,
  startMongoProcess,
} from './lib/services.js';
import { sleep } from './lib/stats.js';
import { CpuMeter, type CpuReading, otherLoadNote, printSystem, systemBrokerPid, waitForQuiet } from './lib/system.js';
import { fmt, formatTable, pct } from './lib/table.js';
import { type BenchUser, registerUsers } from './lib/users.js';

const USAGE =
  'npm run -w @chat/bench w3 -- [--connections N] [--max-target N] [--users U] [--idle-s S] [--skip-max] [--quick] [--save|--no-save]';
const values = flags(
  {
    connections: { type: 'string' },
    'max-target': { type: 'string' },
    users: { type: 'string' },
    'idle-s': { type: 'string' },
    'skip-max': { type: 'boolean' },
    quick: { type: 'boolean' },
    save: { type: 'boolean' },
    'no-save': { type: 'boolean' },
  },
  USAGE,
);
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const quick = values.quick === true;
const CONNECTIONS = intFlag(values, 'connections', quick ? 2000 : 10_000, 100, 100_000);
const MAX_TARGET = intFlag(values, 'max-target', 50_000, 100, 200_000);
const USERS = intFlag(values, 'users', quick ? 50 : 300, 1, 5000);
const IDLE_S = intFlag(values, 'idle-s', quick ? 3 : 10, 1, 300);
const SKIP_MAX = values['skip-max'] === true || quick;
const SAVE = values.save === true || (!quick && values['no-save'] !== true);
const PER_LOADGEN = 5000;
const BROKER = amqpUrl();
const HARD_LIMIT_MS = 20 * 60_000;

interface Step {
  seconds: number;
  ready: number;
  rssKiB: number;
}

interface PhaseResult {
  label: string;
  requested: number;
  ready: number;
  failed: number;
  closes: Record<string, number>;
  errors: Record<string, number>;
  loadgens: number;
  fdLimit: number;
  fdsBefore: number;
  fdsAfter: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  rssAfterCloseKiB: number;
  heapBeforeKiB: number;
  heapAfterKiB: number;
  kibPerConnection: number;
  heapKibPerConnection: number;
  gaugeConnections: number;
  connectS: number;
  connectCpu: CpuReading;
  idleCpu: CpuReading;
  steps: Step[];
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function fdLimit(pid: number): number {
  const m = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

let brokerPid: number | undefined;
let redisServerPid: number | undefined;
let mongoPid: number | undefined;

async function heapKiB(gw: GatewayService): Promise<number> {
  return (await scrape(`${gw.url}/metrics`)).value('nodejs_heap_size_used_bytes') / 1024;
}

async function phase(label: string, gw: GatewayService, users: BenchUser[], count: number): Promise<PhaseResult> {
  await sleep(3000);
  await waitForQuiet({ gateway: gw.pid, standIn: mongoPid }, 60_000);
  const rssBeforeKiB = rssKiB(gw.pid);
  const heapBeforeKiB = await heapKiB(gw);
  const fdsBefore = fdCount(gw.pid);
  const nLoadgens = Math.ceil(count / PER_LOADGEN);
  const loadgens = Array.from(
    { length: nLoadgens },
    (_, i) => new ChildHandle(`lg${i}`, new URL('./lib/ws-loadgen.ts', import.meta.url)),
  );
  try {
    const procs = {
      gateway: gw.pid,
      broker: brokerPid,
      standIn: mongoPid,
      redis: redisServerPid,
      loadgens: loadgens.map((l) => l.pid),
    };
    const connectCpu = new CpuMeter(procs);
    const started = performance.now();
    const steps: Step[] = [{ seconds: 0, ready: 0, rssKiB: rssBeforeKiB }];
    let opening = true;
    const sampler = (async () => {
      while (opening) {
        await sleep(1000);
        const statuses = await Promise.all(loadgens.map((l) => l.call<{ ready: number }>('status', {}, 10_000)));
        steps.push({
          seconds: (performance.now() - started) / 1000,
          ready: statuses.reduce((n, s) => n + s.ready, 0),
          rssKiB: rssKiB(gw.pid),
        });
      }
    })();
    const opened = await Promise.all(
      loadgens.map((lg, i) => {
        const share = Math.min(PER_LOADGEN, count - i * PER_LOADGEN);
        const clients = Array.from({ length: share }, (_, j) => {
          const u = users[(i * PER_LOADGEN + j) % users.length]!;
          return { token: u.token, user: u.n };
        });
        return lg.call<{
          ready: number;
          closed: number;
          closes: Record<string, number>;
          errors: Record<string, number>;
        }>('open', { url: gw.wsUrl, localAddress: `127.0.0.${11 + i}`, clients, concurrency: 200 }, 10 * 60_000);
      }),
    );
    opening = false;
    await sampler;
    const connectS = (performance.now() - started) / 1000;
    const connectReading = connectCpu.stop();
    const ready = opened.reduce((n, o) => n + o.ready, 0);
    const merge = (key: 'closes' | 'errors') => {
      const out: Record<string, number> = {};
      for (const o of opened) for (const [k, v] of Object.entries(o[key])) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    console.log(`  ${label}: ${ready} of ${count} identified in ${fmt(connectS)} s; idle ${IDLE_S} s`);

    const idleCpu = new CpuMeter(procs);
    await sleep(IDLE_S * 1000);
    const idleReading = idleCpu.stop();
    const rssAfterKiB = rssKiB(gw.pid);
    const heapAfterKiB = await heapKiB(gw);
    const fdsAfter = fdCount(gw.pid);
    const gaugeConnections = (await scrape(`${gw.url}/metrics`)).value('chat_gateway_connections');
    steps.push({ seconds: (performance.now() - started) / 1000, ready, rssKiB: rssAfterKiB });
    const statuses = await Promise.all(
      loadgens.map((l) => l.call<{ ready: number; closes: Record<string, number> }>('status')),
    );
    const stillReady = statuses.reduce((n, s) => n + s.ready, 0);
    if (stillReady < ready) console.warn(`  ${ready - stillReady} connections closed while idle`);

    await Promise.all(loadgens.map((l) => l.call('close', { timeoutMs: 30_000 }, 60_000)));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await scrape(`${gw.url}/metrics`)).value('chat_gateway_connections') > 0) {
      await sleep(250);
    }
    await sleep(3000);
    const rssAfterCloseKiB = rssKiB(gw.pid);
    return {
      label,
      requested: count,
      ready,
      failed: count - ready,
      closes: merge('closes'),
      errors: merge('errors'),
      loadgens: nLoadgens,
      fdLimit: fdLimit(gw.pid),
      fdsBefore,
      fdsAfter,
      rssBeforeKiB,
      rssAfterKiB,
      rssAfterCloseKiB,
      heapBeforeKiB,
      heapAfterKiB,
      kibPerConnection: (rssAfterKiB - rssBeforeKiB) / Math.max(1, ready),
      heapKibPerConnection: (heapAfterKiB - heapBeforeKiB) / Math.max(1, ready),
      gaugeConnections,
      connectS,
      connectCpu: connectReading,
      idleCpu: idleReading,
      steps,
    };
  } finally {
    await Promise.all(loadgens.map((l) => l.stop(10_000)));
  }
}

/** A few rows of the RSS curve: the samples nearest to each quarter of the target. */
function curve(p: PhaseResult): Step[] {
  const marks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * p.ready));
  const rows: Step[] = [];
  for (const m of marks) {
    const s = p.steps.reduce((a, b) => (Math.abs(b.ready - m) < Math.abs(a.ready - m) ? b : a), p.steps[0]!);
    if (!rows.includes(s)) rows.push(s);
  }
  return rows;
}

async function main(): Promise<number> {
  const limit = setTimeout(() => {
    console.error('w3: the run exceeded its time limit; giving up');
    process.exit(3);
  }, HARD_LIMIT_MS);
  limit.unref();
  const startedAt = new Date();
  const command = commandLine();
  console.log(`Command: ${command}`);
  const system = (await printSystem(BROKER)).line;
  brokerPid = await systemBrokerPid();
  redisServerPid = await redisPid();
  console.log(`Note: ${STAND_IN_NOTE}`);

  const prefix = runPrefix('w3');
  const secret = randomBytes(32).toString('hex');
  const mongo = await startMongoProcess();
  mongoPid = mongo.pid;
  const stack: StackEnv = {
    prefix,
    amqpUrl: BROKER,
    mongoUrl: mongo.url,
    mongoDb: prefix.replace(/-/g, '_'),
    redisUrl: REDIS_URL,
  };
  // No default group (its cache keys are shared by every deployment on this Redis); no HTTP limits for set-up.
  const gatewayEnv = { DEFAULT_GROUP: '', HTTP_RATE_REQUESTS: '1000000', USER_RATE_REQUESTS: '1000000' };
  const serverIds: string[] = [];
  const gateways: GatewayService[] = [];
  const phases: PhaseResult[] = [];
  let maxNote = '';
  try {
    // Users are registered through a gateway of their own: scrypt's 16 MiB blocks would otherwise sit in
    // the measured process's RSS before the first connection.
    const setup = await startGateway(stack, 'gw-setup', secret, gatewayEnv);
    serverIds.push('gw-setup');
    gateways.push(setup);
    console.log(`registering ${USERS} users through the HTTP API (scrypt), tokens reused by many sockets`);
    const users = await registerUsers([setup.url], secret, USERS);
    await setup.stop('SIGTERM', 20_000);
    const gw = await startGateway(stack, 'gw0', secret, gatewayEnv);
    serverIds.push('gw0');
    gateways.push(gw);
    phases.push(await phase(`${CONNECTIONS} idle`, gw, users, CONNECTIONS));
    await gw.stop('SIGTERM', 20_000);

    if (!SKIP_MAX) {
      // A fresh gateway for the largest count, so that its "before" is a clean process too.
      const gw1 = await startGateway(stack, 'gw1', secret, gatewayEnv);
      serverIds.push('gw1');
      gateways.push(gw1);
      const lim = fdLimit(gw1.pid);
      const used = fdCount(gw1.pid);
      const target = Math.min(MAX_TARGET, lim - used - 200);
      maxNote =
        target < MAX_TARGET
          ? `${fmt(MAX_TARGET)} connections on one gateway are not possible here: its open-file limit is ${fmt(lim)} ` +
            `(hard limit ${fmt(lim)}, not raisable in this environment) and it already used ${used} descriptors, so the largest count tried was ${fmt(target)}.`
          : `${fmt(target)} connections tried on one gateway.`;
      console.log(`  ${maxNote}`);
      phases.push(await phase(`max (${target})`, gw1, users, target));
      await gw1.stop('SIGTERM', 20_000);
    }

    const table = formatTable(
      [
        'phase',
        'identified',
        'failed',
        'load gens',
        'RSS before MiB',
        'RSS after MiB',
        'KiB per conn (RSS)',
        'heap KiB per conn',
        'RSS after close MiB',
        'fds after / limit',
        'connect s',
        'conn/s',
      ],
      phases.map((p) => [
        p.label,
        p.ready,
        p.failed,
        p.loadgens,
        p.rssBeforeKiB / 1024,
        p.rssAfterKiB / 1024,
        p.kibPerConnection,
        p.heapKibPerConnection,
        p.rssAfterCloseKiB / 1024,
        `${p.fdsAfter} / ${p.fdLimit}`,
        p.connectS,
        p.ready / p.connectS,
      ]),
    );
    const cpuTable = formatTable(
      [
        'phase',
        'interval',
        'seconds',
        'gateway CPU',
        'broker CPU',
        'stand-in CPU',
        'redis CPU',
        'load gens CPU',
        'other CPU',
      ],
      phases.flatMap((p) =>
        (
          [
            ['connect + identify', p.connectCpu],
            [`idle (heartbeats)`, p.idleCpu],
          ] as const
        ).map(([what, r]) => [
          p.label,
          what,
          r.wallMs / 1000,
          pct(r.percent.gateway),
          pct(r.percent.broker),
          pct(r.percent.standIn),
          pct(r.percent.redis),
          pct(r.percent.loadgens),
          pct(r.others),
        ]),
      ),
    );
    const curveTable = formatTable(
      ['phase', 'seconds', 'identified', 'gateway RSS MiB'],
      phases.flatMap((p) => curve(p).map((s) => [p.label, s.seconds, s.ready, s.rssKiB / 1024])),
    );
    console.log(`\n${table}\n\n${curveTable}\n\n${cpuTable}\n`);
    const notes = [
      `One gateway process (uWebSockets.js); every client sent IDENTIFY with a JWT and got READY (its user attached), then only heartbeats. ` +
        `${USERS} users were registered through the HTTP API; each token is reused by many sockets (one user, many connections), so ` +
        `the gateway holds at most ${USERS} distinct users and ≤ ${USERS} slot bindings; per-user state is amortised.`,
      'RSS = VmRSS from /proc/<pid>/status of a freshly started gateway (users were registered through another one), 3 s after start and again after the idle period; heap = nodejs_heap_size_used_bytes from the gateway /metrics (V8 heap only; uWS socket buffers live outside it). No forced GC: garbage not yet collected counts. The gateway runs from source through tsx, as the e2e stack does; the loader adds to the base RSS, not to the per-connection delta.',
      'Load generators: `ws` clients, ≤ 5,000 sockets per process, process i binds 127.0.0.(11+i) as its source address.',
      ...(maxNote ? [maxNote] : []),
      `Default group disabled (DEFAULT_GROUP=''): its membership cache keys are not namespaced by CHAT_PREFIX and would be shared with other deployments on the same Redis.`,
      STAND_IN_NOTE,
      otherLoadNote(phases.flatMap((p) => [p.connectCpu, p.idleCpu])),
    ];
    for (const n of notes) console.log(`- ${n}`);
    const failures = phases
      .filter((p) => p.failed > 0)
      .map(
        (p) =>
          `${p.label}: ${p.failed} of ${p.requested} not identified (closes ${JSON.stringify(p.closes)}, errors ${JSON.stringify(p.errors)})`,
      );
    for (const f of failures) console.error(`FAILED: ${f}`);
    if (SAVE) {
      const saved = saveResults({
        scenario: 'w3',
        title: 'W3 — idle connections: gateway memory per connection',
        description:
          'VmRSS of one gateway process before and after N idle identified WebSocket clients, opened from several load-generator ' +
          'processes with their own 127.0.0.x source addresses; then the largest count one gateway can hold here.',
        command,
        system,
        startedAt,
        params: {
          connections: CONNECTIONS,
          maxTarget: MAX_TARGET,
          users: USERS,
          idleS: IDLE_S,
          perLoadgen: PER_LOADGEN,
          quick,
        },
        tables: [
          { heading: 'Memory per connection', markdown: table },
          { heading: 'RSS while connecting', markdown: curveTable },
          { heading: 'CPU (% of one core)', markdown: cpuTable },
        ],
        notes: [...notes, ...failures.map((f) => `FAILED: ${f}`)],
        data: phases,
      });
      console.log(`saved ${saved.json}\n      ${saved.markdown}`);
    }
    return failures.length > 0 ? 1 : 0;
  } finally {
    for (const g of gateways) await g.stop('SIGKILL', 5000).catch(() => {});
    await cleanupRun(BROKER, prefix, serverIds, []).catch((err: unknown) =>
      console.error(`cleanup of ${prefix} failed: ${(err as Error).message}`),
    );
    await mongo.stop().catch(() => {});
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
