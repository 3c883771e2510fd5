// docs/benchmarks.md W4 — reconnect storms through real gateways: `--users` (10,000) WebSocket clients,
// all members of one group, connected through 3 gateway processes on a private 3-node RabbitMQ
// cluster (testkit), from ≥ 4 load-generator processes with their own 127.0.0.x addresses. Clients
// fail over to the next gateway URL themselves (lib/storm-loadgen.ts) and RESUME. Per granularity
// (slot, then user, same run, same users): (b) every client drops at once and reconnects after an
// outage longer than the gateways' attach linger; (a) one gateway is SIGKILLed and its users fail
// over. A probe message is posted into the group (HTTP API) as the storm starts. Measured: the time
// until every affected client has RESUMEd and every client has the probe, binding operations issued
// (the routers' own counters), CPU per process; the user/slot ratio.
import { randomBytes } from 'node:crypto';
import { SnowflakeGenerator, slotOf } from '@chat/router';
import { amqpUrl, type RabbitCluster, startRabbitCluster, startRabbitNode } from '@chat/testkit';
import { ChildHandle } from './lib/child.js';
import { type Histogram, histogramDelta, histogramQuantile, type Metrics, scrape } from './lib/prom.js';
import { defineScenario, type ScenarioOutcome } from './lib/scenario.js';
import {
  cleanupRun,
  type GatewayService,
  type PersisterService,
  REDIS_URL,
  redisPid,
  runPrefix,
  STAND_IN_NOTE,
  type StackEnv,
  startGateway,
  startMongoProcess,
  startPersister,
} from './lib/services.js';
import { epochMs, median, sleep } from './lib/stats.js';
import { makeUsers, seedUsers } from './lib/storm-users.js';
import { CpuMeter, type CpuReading, otherLoadNote, printSystem, systemBrokerPid, waitForQuiet } from './lib/system.js';
import { fmt, formatTable, pct, ratio } from './lib/table.js';
import type { BenchUser } from './lib/users.js';

const scenario = defineScenario({
  name: 'w4',
  summary: 'W4: reconnect storms through 3 real gateways (every client drops; a gateway is SIGKILLed), slot vs user',
  flags: {
    users: { type: 'int', default: 10_000, min: 6, max: 18_000, help: 'clients of the group' },
    loadgens: { type: 'int', default: 4, min: 1, max: 16, help: 'load-generator processes' },
    topology: {
      type: 'choice',
      choices: ['cluster', 'single', 'system'],
      default: 'cluster',
      help: "a private 3-node cluster, a private node, or the machine's RabbitMQ",
    },
    granularity: {
      type: 'choice',
      choices: ['slot', 'user', 'both', 'slot,user', 'user,slot'],
      default: 'both',
      help: 'in this order (both = slot,user; the first also warms the stand-in)',
    },
    'outage-ms': {
      type: 'int',
      default: 3000,
      min: 0,
      max: 120_000,
      help: 'storm (b): how long every client stays away',
    },
    'hold-ms': {
      type: 'int',
      default: 30_000,
      min: 0,
      max: 600_000,
      help: "gateways' MASS_DISCONNECT_HOLD_MS (0: keys unbound after the 2 s linger, as before the hold)",
    },
    'storm-timeout-s': { type: 'int', default: 180, min: 5, max: 1800, help: 'a storm not over by then fails' },
  },
  quick: { users: 100, loadgens: 2, topology: 'system', 'storm-timeout-s': 60 },
  limitMinutes: 60,
});
const {
  users: USERS,
  loadgens: LOADGENS,
  topology: TOPOLOGY,
  'outage-ms': OUTAGE_MS,
  'hold-ms': HOLD_MS,
  'storm-timeout-s': STORM_TIMEOUT_S,
} = scenario.flags;
const quick = scenario.quick;
const granularity = scenario.flags.granularity;
const GRANULARITIES = (granularity === 'both' ? 'slot,user' : granularity).split(',') as Array<'slot' | 'user'>;
const GATEWAYS = 3;
/** Sockets per load generator: well under the open-file limit of a process (~20,000). */
const MAX_PER_LOADGEN = 5000;
const TARGET_S = 5;
const TARGET_RATIO = 10;
const SLOTS = 1024;
/** After a storm: until the binding counters are read, and before the next storm. */
const SETTLE_MS = quick ? 2000 : 5000;
/** How long a storm waits for a lull in other people's load (a quick run does not wait). */
const QUIET_WAIT_MS = quick ? 2000 : 60_000;

interface WaitReport {
  complete: boolean;
  clients: number;
  affected: number;
  affectedDone: number[];
  affectedMissing: number;
  probeReceived: number;
  probeLastMs: number;
  probeViaReplay: number;
  toHello: number[];
  helloToEstablished: number[];
  establishedMs: number[];
  probeMs: number[];
  resumed: number;
  identified: number;
  replayedEvents: number;
  attempts: number;
  failedAttempts: number;
  closeReasons: Record<string, number>;
  status: { ready: number; perUrl: Record<string, number>; closes: Record<string, number> };
}

interface StormResult {
  granularity: 'slot' | 'user';
  storm: 'all-drop' | 'kill-gateway';
  clients: number;
  affected: number;
  complete: boolean;
  /** Storm start → every affected client established again AND every client holding the probe. */
  allDoneS: number;
  /** Per affected client: max(established, probe received) − storm start. */
  p50S: number;
  p99S: number;
  affectedMissing: number;
  probeReceived: number;
  /** Storm start → the last client's probe. */
  probeLastS: number;
  probeViaReplay: number;
  /** Medians over the affected clients: storm start → established again, and → probe received (s). */
  establishedP50S: number;
  probeP50S: number;
  /** Medians of the successful attempt: opened → HELLO (TCP + upgrade), HELLO → READY/RESUMED (attach + replay), ms. */
  toHelloP50Ms: number;
  helloToEstablishedP50Ms: number;
  helloToEstablishedMaxMs: number;
  resumed: number;
  identified: number;
  replayedEvents: number;
  attempts: number;
  failedAttempts: number;
  binds: number;
  unbinds: number;
  bindErrors: number;
  /** Probe POST → 201 (the write confirmed), ms. */
  probePostMs: number;
  /** Other people's load was below 30% of a core when the storm started (else it started after 60 s anyway). */
  quietStart: boolean;
  cpu: CpuReading;
  closes: Record<string, number>;
  /** Closes the clients saw during the storm, by `<code> <reason>`. */
  closeReasons: Record<string, number>;
  /** The live gateways' warnings and errors logged during the storm, by `<msg>: <err>`. */
  gatewayWarnings: Record<string, number>;
  /** Where the storm's RESUMEs waited, per step (chat_gateway_identify_step_seconds of the live gateways), ms. */
  resumeSteps: Record<string, { count: number; meanMs: number; p50Ms: number; p99Ms: number }>;
}

/** Warning and error lines (pino JSON, level ≥ 40) among `lines`, counted by message and error. */
function warningsOf(lines: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      const l = JSON.parse(line) as { level?: number; msg?: string; err?: unknown };
      if ((l.level ?? 0) < 40) continue;
      const err = typeof l.err === 'string' ? l.err : ((l.err as { message?: string } | undefined)?.message ?? '');
      // Numbers (durations, ids) vary per line: counted as one reason.
      const key = `${l.msg ?? '?'}${err ? `: ${err.slice(0, 120)}` : ''}`.replace(/\d+/g, 'N');
      out[key] = (out[key] ?? 0) + 1;
    } catch {
      // not a log line
    }
  }
  return out;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function counter(list: Metrics[], name: string, labels: Record<string, string>): number {
  return list.reduce((n, m) => n + m.value(name, labels), 0);
}

const RESUME_STEPS = ['token', 'rate', 'attach', 'channels', 'replay', 'presence'] as const;

/** What the gateways' RESUMEs waited at each step between two scrapes of every live gateway. */
function resumeSteps(before: Metrics[], after: Metrics[]): StormResult['resumeSteps'] {
  const out: StormResult['resumeSteps'] = {};
  for (const step of RESUME_STEPS) {
    const labels = { kind: 'resume', step };
    const parts = after.map((m, i) =>
      histogramDelta(
        before[i]!.histogram('chat_gateway_identify_step_seconds', labels),
        m.histogram('chat_gateway_identify_step_seconds', labels),
      ),
    );
    const first = parts[0];
    if (!first) continue;
    const sum: Histogram = {
      le: first.le,
      cumulative: first.le.map((_, j) => parts.reduce((n, h) => n + (h.cumulative[j] ?? 0), 0)),
      sum: parts.reduce((n, h) => n + h.sum, 0),
      count: parts.reduce((n, h) => n + h.count, 0),
    };
    out[step] = {
      count: sum.count,
      meanMs: sum.count > 0 ? (sum.sum / sum.count) * 1000 : Number.NaN,
      p50Ms: histogramQuantile(sum, 0.5) * 1000,
      p99Ms: histogramQuantile(sum, 0.99) * 1000,
    };
  }
  return out;
}

/** Posts a probe into the group through a gateway's HTTP API; resolves with the time to its 201 (confirmed). */
async function postProbe(gatewayUrl: string, token: string, groupId: string, content: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${gatewayUrl}/api/channels/${groupId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ content }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`probe POST: ${res.status} ${text}`);
  return performance.now() - started;
}

/** Where the run's services connect: AMQP URLs (one per node), the brokers' pids (for CPU), and how to stop. */
interface Broker {
  urls: readonly string[];
  pids(): number[];
  stop(): Promise<void>;
}

async function startBroker(): Promise<Broker> {
  if (TOPOLOGY === 'system') {
    const pid = await systemBrokerPid();
    return { urls: [amqpUrl()], pids: () => (pid ? [pid] : []), stop: async () => {} };
  }
  console.log(`starting a private ${TOPOLOGY === 'cluster' ? '3-node RabbitMQ cluster' : 'RabbitMQ node'} (testkit) …`);
  const t = performance.now();
  const nodes: RabbitCluster = TOPOLOGY === 'cluster' ? await startRabbitCluster({ size: 3 }) : await startRabbitNode();
  console.log(`  up in ${fmt((performance.now() - t) / 1000)} s`);
  return {
    urls: nodes.urls,
    pids: () => nodes.urls.map((_, i) => nodes.osPid(i)).filter((p): p is number => p !== undefined),
    stop: () => nodes.stop(),
  };
}

/** The gateway a user prefers: its slot, spread over the gateways (what nginx's `hash $arg_slot` does). */
function primaryOf(u: BenchUser): number {
  return slotOf(u.id, SLOTS) % GATEWAYS;
}

async function main(): Promise<ScenarioOutcome> {
  const cluster = await startBroker();
  const mongo = await startMongoProcess();
  const results: StormResult[] = [];
  const notes: string[] = [];
  let system = '';
  try {
    system = (await printSystem(cluster.urls[0]!)).line;
    console.log(`Note: ${STAND_IN_NOTE}`);
    const secret = randomBytes(32).toString('hex');
    const mongoDb = runPrefix('w4db').replace(/-/g, '_');
    const groupId = await new SnowflakeGenerator({ workerId: 1020 }).next();
    // u0..u<N-1> connect; u<N> is the prober (a member that only posts probes over HTTP).
    const t = performance.now();
    const all = await makeUsers(secret, USERS + 1);
    await seedUsers(mongo.url, mongoDb, all, { id: groupId, name: 'w4' });
    const users = all.slice(0, USERS);
    const prober = all[USERS]!;
    console.log(
      `seeded ${USERS} users + a prober, one group of all of them, in ${fmt((performance.now() - t) / 1000)} s`,
    );
    for (const granularity of GRANULARITIES) {
      results.push(...(await runGranularity(granularity, cluster, mongo, secret, mongoDb, groupId, users, prober)));
    }
  } finally {
    await mongo.stop().catch(() => {});
    await cluster
      .stop()
      .catch((err: unknown) => console.error(`stopping the private broker: ${(err as Error).message}`));
  }

  // ---- report ---------------------------------------------------------------------------------
  const stormTable = formatTable(
    [
      'granularity',
      'storm',
      'clients',
      'affected',
      'all resumed + probe s',
      'p50 s',
      'p99 s',
      'missing',
      'probe to all s',
      'probe via replay',
      'RESUMED',
      'READY',
      'attempts',
      'failed attempts',
      'bind ops',
      'unbind ops',
      `< ${TARGET_S} s`,
    ],
    results.map((r) => [
      r.granularity,
      r.storm,
      r.clients,
      r.affected,
      r.complete ? r.allDoneS : `> ${STORM_TIMEOUT_S}`,
      r.p50S,
      r.p99S,
      r.affectedMissing,
      r.probeLastS,
      r.probeViaReplay,
      r.resumed,
      r.identified,
      r.attempts,
      r.failedAttempts,
      r.binds,
      r.unbinds,
      r.complete && r.allDoneS < TARGET_S,
    ]),
  );
  const ratioRows = (['all-drop', 'kill-gateway'] as const).flatMap((storm) => {
    const slot = results.find((r) => r.storm === storm && r.granularity === 'slot');
    const user = results.find((r) => r.storm === storm && r.granularity === 'user');
    if (!slot || !user) return [];
    return [
      [
        storm,
        slot.allDoneS,
        user.allDoneS,
        ratio(user.allDoneS, slot.allDoneS),
        slot.binds,
        user.binds,
        ratio(user.binds, slot.binds),
        user.allDoneS / slot.allDoneS >= TARGET_RATIO,
      ],
    ];
  });
  const ratioTable =
    ratioRows.length > 0
      ? formatTable(
          [
            'storm',
            'slot s',
            'user s',
            'user/slot time',
            'slot bind ops',
            'user bind ops',
            'user/slot ops',
            `≥ ${TARGET_RATIO}×`,
          ],
          ratioRows,
        )
      : undefined;
  const cpuNames = [...new Set(results.flatMap((r) => Object.keys(r.cpu.percent)))];
  const cpuTable = formatTable(
    ['granularity', 'storm', 'seconds', ...cpuNames, 'other CPU'],
    results.map((r) => [
      r.granularity,
      r.storm,
      r.cpu.wallMs / 1000,
      ...cpuNames.map((n) => pct(r.cpu.percent[n])),
      pct(r.cpu.others),
    ]),
  );
  const reasonRows = results.flatMap((r) =>
    (
      [
        ['client close', r.closeReasons],
        ['gateway warning', r.gatewayWarnings],
      ] as const
    ).flatMap(([source, counts]) =>
      Object.entries(counts)
        .sort((a, b) => b[1] - a[1])
        .map(([what, n]) => [r.granularity, r.storm, source, what, n]),
    ),
  );
  const reasonTable = formatTable(['granularity', 'storm', 'source', 'what', 'count'], reasonRows);
  const stepTable = formatTable(
    ['granularity', 'storm', 'RESUMEs', ...RESUME_STEPS.map((s) => `${s} mean / p50 / p99 ms`)],
    results.map((r) => [
      r.granularity,
      r.storm,
      r.resumeSteps.token?.count ?? 0,
      ...RESUME_STEPS.map((s) => {
        const x = r.resumeSteps[s];
        return x && x.count > 0 ? `${fmt(x.meanMs)} / ${fmt(x.p50Ms)} / ${fmt(x.p99Ms)}` : '—';
      }),
    ]),
  );
  console.log(
    `\n${stormTable}\n\n${ratioTable ? `${ratioTable}\n\n` : ''}${stepTable}\n\n${cpuTable}\n\n${reasonTable}\n`,
  );
  notes.push(
    `${USERS} clients (u0..u${USERS - 1}), all members of one group, through ${GATEWAYS} gateway processes (${TOPOLOGY === 'cluster' ? 'gateway i connected to node i of a private 3-node cluster, the persister to node 0' : TOPOLOGY === 'single' ? 'one private RabbitMQ node' : 'the system RabbitMQ node'}), ` +
      `from ${LOADGENS} load-generator processes (127.0.0.41…, ≤ ${MAX_PER_LOADGEN} sockets each). A client's first gateway is slot(user) mod ${GATEWAYS} (what nginx's consistent \`hash $arg_slot\` achieves: a slot's users share a gateway).`,
    'Failover is done by the clients, not by nginx: testkit’s nginx runs one worker with worker_connections 16,384 under a per-process limit of ~20,000 open files, and every proxied WebSocket holds two connections in it (client and upstream), so one nginx process cannot hold 10,000 WebSockets here. ' +
      'A client whose connection is lost (close 1006) or whose attempt fails before HELLO reconnects to the NEXT gateway URL of its list (what `proxy_next_upstream error` does for a dead upstream); one a gateway closed with a code (e.g. 4000 after an attach timeout) to the same gateway (what `hash $arg_slot consistent` does); each after the SDK’s backoff (250 ms × 2^attempt, ±20%, ≤ 10 s), with RESUME from the last message id it saw.',
    `Storms, in this order per granularity: **all-drop** — every client terminates its socket at once (no close handshake) and reconnects to the same gateway ${OUTAGE_MS} ms later (longer than ATTACH_LINGER_MS = 2 s; ${HOLD_MS > OUTAGE_MS ? `the gateways see a mass disconnect and keep every key bound for MASS_DISCONNECT_HOLD_MS = ${HOLD_MS} ms, so the returning clients need no binding operation` : `MASS_DISCONNECT_HOLD_MS = ${HOLD_MS} ms, so the gateways unbind the keys and must bind them again`}); the clock starts when the outage ends. ` +
      '**kill-gateway** — gw0 is SIGKILLed; its clients fail over to gw1 (their next URL); the clock starts at the kill. ' +
      'As each storm starts, a probe message is posted into the group through the HTTP API of a live gateway (201 = its durable write confirmed).',
    `all resumed + probe = storm start → the moment every affected client has RESUMED (or READY) again AND every client (affected or not) has received the probe, live or inside its RESUME replay; p50/p99 over the affected clients of max(established, probe). missing = affected clients without both after ${STORM_TIMEOUT_S} s.`,
    `bind/unbind ops = chat_router_binding_operations_total{op} of the gateways that were alive at the end, from the storm start until every client was done plus ${SETTLE_MS / 1000} s (the killed gateway issues none after its death).`,
    'Target (issue #9): every client resumed with its probe in < 5 s, and slot granularity ≥ 10× faster than user granularity. Binding operations only bound the time when the broker’s bind rate is the bottleneck; RESUME also reads the store (the stand-in) and a replay per client.',
    STAND_IN_NOTE,
    otherLoadNote(results.map((r) => r.cpu)),
  );
  for (const n of notes) console.log(`- ${n}`);
  console.log(
    `W4-SUMMARY ${JSON.stringify(
      results.map((r) => ({
        granularity: r.granularity,
        storm: r.storm,
        clients: r.clients,
        affected: r.affected,
        complete: r.complete,
        allDoneS: r.allDoneS,
        affectedMissing: r.affectedMissing,
        probeReceived: r.probeReceived,
        binds: r.binds,
        resumed: r.resumed,
      })),
    )}`,
  );
  return {
    code: results.every((r) => r.complete) && results.length === GRANULARITIES.length * 2 ? 0 : 1,
    results: {
      title: 'W4 — reconnect storms through real gateways',
      description:
        'Clients of one group connected through 3 gateway processes on a private RabbitMQ cluster; every client drops at once, and one gateway is SIGKILLed. ' +
        'Time until every affected client has RESUMEd and every client has a probe posted as the storm starts; binding operations; slot vs user granularity in the same run. ' +
        '**MongoDB is the in-memory stand-in, not MongoDB.**',
      system,
      params: {
        users: USERS,
        loadgens: LOADGENS,
        topology: TOPOLOGY,
        granularities: GRANULARITIES,
        outageMs: OUTAGE_MS,
        holdMs: HOLD_MS,
        stormTimeoutS: STORM_TIMEOUT_S,
        quick,
      },
      tables: [
        { heading: 'Storms', markdown: stormTable },
        ...(ratioTable ? [{ heading: 'User vs slot granularity, same run', markdown: ratioTable }] : []),
        {
          heading:
            'Where the RESUMEs waited: the live gateways\' `chat_gateway_identify_step_seconds{kind="resume"}` over the storm (p50/p99 interpolated in buckets)',
          markdown: stepTable,
        },
        { heading: 'CPU per process during each storm (% of one core)', markdown: cpuTable },
        {
          heading: 'Why attempts failed: close codes and reasons the clients got, gateway warnings',
          markdown: reasonTable,
        },
      ],
      notes,
      data: { results },
    },
  };
}

/** One granularity: fresh gateways and persister on a fresh prefix, connect everyone, then both storms. */
async function runGranularity(
  granularity: 'slot' | 'user',
  cluster: Broker,
  mongo: { url: string; pid: number },
  secret: string,
  mongoDb: string,
  groupId: string,
  users: readonly BenchUser[],
  prober: BenchUser,
): Promise<StormResult[]> {
  console.log(`\n== ${granularity} granularity ==`);
  const prefix = runPrefix(`w4${granularity}`);
  const urls = cluster.urls;
  /** Node i first, then the others: the connection order of the service on node i. */
  const amqpFrom = (i: number) => [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)].join(',');
  const stack = (i: number): StackEnv => ({
    prefix,
    amqpUrl: amqpFrom(i),
    mongoUrl: mongo.url,
    mongoDb,
    redisUrl: REDIS_URL,
  });
  const gatewayEnv = {
    CHAT_GRANULARITY: granularity,
    DEFAULT_GROUP: '',
    HTTP_RATE_REQUESTS: '1000000',
    USER_RATE_REQUESTS: '1000000',
    MASS_DISCONNECT_HOLD_MS: String(HOLD_MS),
  };
  const serverIds = Array.from({ length: GATEWAYS }, (_, i) => `gw${i}`);
  const gateways: GatewayService[] = [];
  let persister: PersisterService | undefined;
  const loadgens: ChildHandle[] = [];
  const out: StormResult[] = [];
  try {
    persister = await startPersister(stack(0), { CHAT_GRANULARITY: granularity });
    for (let i = 0; i < GATEWAYS; i++) gateways.push(await startGateway(stack(i), serverIds[i]!, secret, gatewayEnv));
    const wsUrls = gateways.map((g) => g.wsUrl);
    const nLoadgens = Math.max(LOADGENS, Math.ceil(users.length / MAX_PER_LOADGEN));
    for (let i = 0; i < nLoadgens; i++) {
      loadgens.push(new ChildHandle(`lg${i}`, new URL('./lib/storm-loadgen.ts', import.meta.url)));
    }
    console.log(`connecting ${users.length} clients from ${nLoadgens} load generators …`);
    const t = performance.now();
    const opened = await Promise.all(
      loadgens.map((lg, i) =>
        lg.call<{
          ready: number;
          perUrl: Record<string, number>;
          closes: Record<string, number>;
          errors: Record<string, number>;
        }>(
          'open',
          {
            localAddress: `127.0.0.${41 + i}`,
            clients: users
              .filter((u) => u.n % nLoadgens === i)
              .map((u) => ({ user: u.n, token: u.token, urls: wsUrls, urlIndex: primaryOf(u) })),
            concurrency: 50,
          },
          20 * 60_000,
        ),
      ),
    );
    const ready = opened.reduce((n, o) => n + o.ready, 0);
    const perGateway = wsUrls.map((u) => opened.reduce((n, o) => n + (o.perUrl[u] ?? 0), 0));
    console.log(
      `  ${ready} of ${users.length} identified in ${fmt((performance.now() - t) / 1000)} s (per gateway ${perGateway.join(' / ')})`,
    );
    if (ready < users.length) {
      const closes: Record<string, number> = {};
      for (const o of opened) {
        addCounts(closes, o.closes);
        addCounts(closes, o.errors);
      }
      const warnings: Record<string, number> = {};
      for (const g of gateways) addCounts(warnings, warningsOf(g.logs));
      throw new Error(
        `only ${ready} of ${users.length} clients identified; closes ${JSON.stringify(closes)}; gateway warnings ${JSON.stringify(warnings)}`,
      );
    }

    const cpuProcs = () => ({
      ...Object.fromEntries(gateways.map((g) => [g.name, g.pid])),
      persister: persister!.pid,
      standIn: mongo.pid,
      broker: cluster.pids(),
      redis: redisServerPid,
      loadgens: loadgens.map((l) => l.pid),
      bench: process.pid,
    });
    let probeSeq = 0;
    /** Arms a storm in every load generator, runs `fault`, posts the probe, waits for the end. */
    const storm = async (
      name: StormResult['storm'],
      affected: string,
      fault: () => Promise<number>,
      live: GatewayService[],
    ): Promise<StormResult> => {
      const tag = `w4p${probeSeq++}`;
      // On a shared machine, start in a lull of other people's load (bounded).
      const quiet = await waitForQuiet(cpuProcs(), QUIET_WAIT_MS);
      const before = await Promise.all(live.map((g) => scrape(`${g.url}/metrics`)));
      const logFrom = live.map((g) => g.logs.length);
      // The CPU meter must not hold a pid that dies during the interval: the killed gateway is left out.
      const procs = cpuProcs();
      if (name === 'kill-gateway') delete (procs as Record<string, unknown>)[gateways[0]!.name];
      const cpu = new CpuMeter(procs);
      // Armed with a provisional clock; `fault` returns the storm's real start (epoch ms).
      const armed = await Promise.all(
        loadgens.map((lg) => lg.call<{ affected: number }>('arm', { tag, t0: epochMs(), affected })),
      );
      const t0 = await fault();
      await Promise.all(loadgens.map((lg) => lg.call('rebase', { t0 })));
      const probePostMs = await postProbe(live[live.length - 1]!.url, prober.token, groupId, `${tag}|${name}|probe`);
      const waits = await Promise.all(
        loadgens.map((lg) =>
          lg.call<WaitReport>('wait', { timeoutMs: STORM_TIMEOUT_S * 1000 }, STORM_TIMEOUT_S * 1000 + 60_000),
        ),
      );
      const reading = cpu.stop();
      await sleep(SETTLE_MS);
      const after = await Promise.all(live.map((g) => scrape(`${g.url}/metrics`)));
      const done = waits.flatMap((w) => w.affectedDone).sort((a, b) => a - b);
      const complete = waits.every((w) => w.complete);
      const delta = (labels: Record<string, string>) =>
        counter(after, 'chat_router_binding_operations_total', labels) -
        counter(before, 'chat_router_binding_operations_total', labels);
      const closes: Record<string, number> = {};
      const closeReasons: Record<string, number> = {};
      for (const w of waits) {
        addCounts(closes, w.status.closes);
        addCounts(closeReasons, w.closeReasons);
      }
      const gatewayWarnings: Record<string, number> = {};
      for (const [i, g] of live.entries()) addCounts(gatewayWarnings, warningsOf(g.logs.slice(logFrom[i])));
      const r: StormResult = {
        granularity,
        storm: name,
        clients: waits.reduce((n, w) => n + w.clients, 0),
        affected: armed.reduce((n, a) => n + a.affected, 0),
        complete,
        allDoneS:
          Math.max(
            done[done.length - 1] ?? 0,
            ...waits.map((w) => (Number.isFinite(w.probeLastMs) ? w.probeLastMs : 0)),
          ) / 1000,
        p50S: quantile(done, 0.5) / 1000,
        p99S: quantile(done, 0.99) / 1000,
        affectedMissing: waits.reduce((n, w) => n + w.affectedMissing, 0),
        probeReceived: waits.reduce((n, w) => n + w.probeReceived, 0),
        probeLastS: Math.max(...waits.map((w) => w.probeLastMs)) / 1000,
        probeViaReplay: waits.reduce((n, w) => n + w.probeViaReplay, 0),
        establishedP50S: median(waits.flatMap((w) => w.establishedMs)) / 1000,
        probeP50S: median(waits.flatMap((w) => w.probeMs)) / 1000,
        toHelloP50Ms: median(waits.flatMap((w) => w.toHello)),
        helloToEstablishedP50Ms: median(waits.flatMap((w) => w.helloToEstablished)),
        helloToEstablishedMaxMs: Math.max(0, ...waits.flatMap((w) => w.helloToEstablished)),
        resumed: waits.reduce((n, w) => n + w.resumed, 0),
        identified: waits.reduce((n, w) => n + w.identified, 0),
        replayedEvents: waits.reduce((n, w) => n + w.replayedEvents, 0),
        attempts: waits.reduce((n, w) => n + w.attempts, 0),
        failedAttempts: waits.reduce((n, w) => n + w.failedAttempts, 0),
        binds: delta({ op: 'bind' }),
        unbinds: delta({ op: 'unbind' }),
        bindErrors: delta({ op: 'bind', outcome: 'error' }),
        probePostMs,
        quietStart: quiet.quiet,
        cpu: reading,
        closes,
        closeReasons,
        gatewayWarnings,
        resumeSteps: resumeSteps(before, after),
      };
      // The baseline probe runs through here with no fault: label it as what it is, not as a storm.
      const label = affected === 'none' ? 'baseline (no fault)' : name;
      console.log(
        `  ${label}: ${r.affected} affected, ${r.complete ? `all done in ${fmt(r.allDoneS)} s` : `NOT complete after ${STORM_TIMEOUT_S} s (${r.affectedMissing} missing, probe at ${r.probeReceived} of ${r.clients})`} ` +
          `(p50 ${fmt(r.p50S)} s, p99 ${fmt(r.p99S)} s; established p50 ${fmt(r.establishedP50S)} s, probe p50 ${fmt(r.probeP50S)} s; ` +
          `attempt → HELLO p50 ${fmt(r.toHelloP50Ms)} ms, HELLO → RESUMED p50 ${fmt(r.helloToEstablishedP50Ms)} max ${fmt(r.helloToEstablishedMaxMs)} ms), ${r.resumed} RESUMED, ${r.identified} READY, ${r.probeViaReplay} probes via replay, ` +
          `binds ${r.binds}, unbinds ${r.unbinds}, probe POST ${fmt(probePostMs)} ms`,
      );
      for (const [what, counts] of [
        ['client closes', closeReasons],
        ['gateway warnings', gatewayWarnings],
      ] as const) {
        for (const [k, v] of Object.entries(counts).sort((a, b) => b[1] - a[1]))
          console.log(`    ${what}: ${v} × ${k}`);
      }
      return r;
    };

    // Baseline: every client gets a message, so each has an id to RESUME from.
    const base = await storm('all-drop', 'none', async () => epochMs(), gateways).catch((err: unknown) => {
      throw new Error(`baseline probe: ${(err as Error).message}`);
    });
    if (!base.complete) throw new Error(`the baseline probe reached ${base.probeReceived} of ${base.clients} clients`);
    console.log(`  baseline probe reached every client in ${fmt(base.probeLastS)} s`);

    // (b) every client drops at once and comes back after the outage.
    out.push(
      await storm(
        'all-drop',
        'all',
        async () => {
          await Promise.all(loadgens.map((lg) => lg.call('drop', { outageMs: OUTAGE_MS })));
          await sleep(OUTAGE_MS);
          return epochMs();
        },
        gateways,
      ),
    );
    // Let the gateways settle (lingering detaches, unbinds) before the next storm.
    await sleep(SETTLE_MS);

    // (a) gw0 is SIGKILLed: its clients fail over to gw1.
    const victim = gateways[0]!;
    out.push(
      await storm(
        'kill-gateway',
        victim.wsUrl,
        async () => {
          const at = epochMs();
          process.kill(victim.pid, 'SIGKILL');
          return at;
        },
        gateways.slice(1),
      ),
    );
    await victim.exited;
    return out;
  } finally {
    await Promise.all(loadgens.map((lg) => lg.call('close', { timeoutMs: 10_000 }, 60_000).catch(() => {})));
    await Promise.all(loadgens.map((lg) => lg.stop(10_000)));
    for (const g of gateways) await g.stop('SIGTERM', 20_000).catch(() => {});
    await persister?.stop('SIGTERM', 20_000).catch(() => {});
    await cleanupRun(cluster.urls[0]!, prefix, serverIds, [groupId]).catch((err: unknown) =>
      console.error(`cleanup of ${prefix} failed: ${(err as Error).message}`),
    );
  }
}

let redisServerPid: number | undefined;

scenario.run(async () => {
  redisServerPid = await redisPid();
  return main();
});
