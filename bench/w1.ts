// docs/benchmarks.md W1 — direct messages through the whole system: 2 gateway processes, a persister,
// the MongoDB stand-in, N = 1,000 WebSocket clients (u0..u999, half on each gateway, connected to
// its port directly) in two load-generator processes. A timer sends message.create on DM channels
// at an aggregate rate R (open loop) from random clients; every recipient records send → receive
// latency. Sweep R; report delivered msg/s, p50/p99/max, loss, duplicates and CPU per process.
// W5 in the same run as the reference: raw quorum-queue confirms (the broker ceiling) and the whole
// path flat out (closed loop: each client's next message waits for the previous one's echo through
// the whole path, so 1,000 are outstanding end to end — the same window as the raw run).
// Then the overload steps (2× and 4× the knee): what the gateways refuse (`overloaded`), goodput,
// and that nothing acked is lost — accounting in lib/overload.ts.
import { randomBytes } from 'node:crypto';
import { gatewayQueueName, SnowflakeGenerator, slotOf } from '@chat/router';
import { amqpUrl } from '@chat/testkit';
import amqp from 'amqplib';
import hdr from 'hdr-histogram-js';
import { flags, intFlag } from './lib/args.js';
import { ChildHandle } from './lib/child.js';
import { commandLine } from './lib/command.js';
import {
  cpuPerDeliveredTable,
  kneeOf,
  overloadTable,
  type Shedding,
  type SheddingReport,
  sheddingOf,
} from './lib/overload.js';
import { type Histogram, histogramDelta, histogramQuantile, type Metrics, scrape } from './lib/prom.js';
import { type RawConfirmResult, rawQuorumConfirm } from './lib/raw-confirm.js';
import { saveResults } from './lib/results.js';
import { RunQueueMeter } from './lib/schedstat.js';
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
import { epochMs, type LatencySummary, latencyHistogram, seededRandom, sleep, summarize } from './lib/stats.js';
import { CpuMeter, type CpuReading, otherLoadNote, printSystem, systemBrokerPid, waitForQuiet } from './lib/system.js';
import { fmt, formatTable, pct, ratio } from './lib/table.js';
import { type BenchUser, createDm, pool, registerUsers } from './lib/users.js';

const USAGE =
  'npm run -w @chat/bench w1 -- [--rates 1000,2000,4000,8000,16000] [--duration-s S] [--clients N] [--partners K] ' +
  '[--closed-s S] [--raw-messages N] [--knee R] [--no-overload] [--quick] [--save|--no-save]';
const values = flags(
  {
    rates: { type: 'string' },
    'duration-s': { type: 'string' },
    clients: { type: 'string' },
    partners: { type: 'string' },
    'closed-s': { type: 'string' },
    'raw-messages': { type: 'string' },
    knee: { type: 'string' },
    'no-overload': { type: 'boolean' },
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
const RATES = String(values.rates ?? (quick ? '500,1000' : '1000,2000,4000,8000,16000'))
  .split(',')
  .map((s) => Number(s.trim()));
if (RATES.some((r) => !Number.isInteger(r) || r < 10 || r > 100_000)) {
  console.error(`--rates must be integers in 10..100000\nusage: ${USAGE}`);
  process.exit(2);
}
const DURATION_S = intFlag(values, 'duration-s', quick ? 5 : 15, 2, 120);
const CLIENTS = intFlag(values, 'clients', quick ? 200 : 1000, 4, 10_000);
/** Rounds of random pairing: every user gets up to K DM partners. */
const PARTNERS = intFlag(values, 'partners', 4, 1, 32);
const CLOSED_S = intFlag(values, 'closed-s', quick ? 5 : 15, 3, 120);
const RAW_MESSAGES = intFlag(values, 'raw-messages', quick ? 10_000 : 50_000, 1000, 1_000_000);
/** The rate the overload steps multiply (2×, 4×); default: the highest R of the sweep that met the target. */
const KNEE = values.knee === undefined ? undefined : intFlag(values, 'knee', 1000, 10, 100_000);
const OVERLOAD = values['no-overload'] !== true;
const SAVE = values.save === true || (!quick && values['no-save'] !== true);
const BROKER = amqpUrl();
const GRACE_MS = 5000;
const DRAIN_LIMIT_MS = 120_000;
const HARD_LIMIT_MS = 40 * 60_000;
const TARGET_P99_MS = 100;

interface LoadgenReport extends SheddingReport {
  tag: string;
  sent: number;
  respOk: number;
  respErr: Record<string, number>;
  respHist: string;
  recvHist: string;
  received: Array<[number, Uint8Array]>;
  echoes: number;
  perSecond: number[];
  status: { ready: number; closed: number; closes: Record<string, number> };
}

interface StepResult {
  tag: string;
  mode: 'open' | 'closed';
  rate: number;
  durationS: number;
  sent: number;
  sentPerSec: number;
  maxBehind: number;
  responsesOk: number;
  responseErrors: Record<string, number>;
  received: number;
  /** Unique receipts during the send window, per second. */
  deliveredPerSec: number;
  /** Sent, not refused (`overloaded`), and never received. */
  lost: number;
  /** Acked / refused (`overloaded`) / other errors, and acked-but-lost (must be 0). */
  shedding: Shedding;
  /** Recipients that got a message more than once (extra copies). */
  duplicateCopies: number;
  messagesWithDuplicates: number;
  latency: LatencySummary;
  confirmLatency: LatencySummary;
  cpu: CpuReading;
  drainedS: number;
  purged: boolean;
  closedSockets: number;
  breakdown: Breakdown;
  /** Once a second during send window + grace: persist queue depth, gateway queues' depth, stored so far. */
  samples: Array<{ s: number; persistDepth: number; gatewayDepth: number; stored: number }>;
  /** Persister: stored per second during the send window (from its counter, sampled). */
  storedPerSec: number;
  maxPersistDepth: number;
  maxGatewayDepth: number;
  /** Waited for a lull in other people's load before the step (DISTURBED_PCT); false = proceeded anyway. */
  quietStart: boolean;
  /** Requests still unanswered by the gateways when the drain limit ran out (0 = the step ended cleanly). */
  unansweredAfterDrain: number;
  /** Per process: thread-time spent runnable but waiting for a CPU, % of the send window. */
  runQueue: Record<string, number | undefined>;
}

/** Where the time went, from the services' own histograms over the step (send window + grace). */
interface Breakdown {
  /** Gateway: message.create request (rate limit, membership check, durable write until confirmed). */
  requestMeanMs: number;
  requestP99Ms: number;
  /** Gateway: durable write publish → broker confirm. */
  confirmMeanMs: number;
  confirmP99Ms: number;
  /** Persister: delivered → stored → dispatched (confirmed) → acked, per write. */
  loopMeanMs: number;
  loopP99Ms: number;
  insertMeanMs: number;
  dispatchMeanMs: number;
  meanBatch: number;
  busyPerSec: number;
  /** Gateway deliveries (frames to sockets) per message sent. */
  deliveriesPerMessage: number;
  /** Envelopes consumed by the gateways per message sent. */
  envelopesPerMessage: number;
  /** Extra AMQP copies (one per further partition) the gateways' routers dropped, per message sent. */
  droppedCopiesPerMessage: number;
  /** Broker messages per message sent: persist-queue publishes (gateways) and deliveries (persister),
   *  dispatch publishes (persister) and gateway-queue deliveries — what the broker does per DM. */
  persistPublishesPerMessage: number;
  persistDeliveriesPerMessage: number;
  dispatchPublishesPerMessage: number;
  gatewayDeliveriesPerMessage: number;
}

/** Warnings and errors a service logged (pino JSON, level ≥ 40), counted by message. */
function warnings(logs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of logs) {
    try {
      const rec = JSON.parse(line) as { level?: number; msg?: string; err?: unknown };
      if ((rec.level ?? 0) >= 40) {
        const key = `${rec.msg ?? '?'}${typeof rec.err === 'string' ? ` (${rec.err.slice(0, 80)})` : ''}`;
        out[key] = (out[key] ?? 0) + 1;
      }
    } catch {
      // not a log record
    }
  }
  return out;
}

/** Stored per second over the send window: the counter at the last sample inside it minus the start. */
function storedRate(samples: StepResult['samples'], durationS: number, before: number): number {
  const inside = samples.filter((x) => x.s <= durationS);
  const last = inside[inside.length - 1];
  return last && last.s > 0 ? (last.stored - before) / last.s : Number.NaN;
}

function sumHist(list: Metrics[], name: string, labels: Record<string, string> = {}): Histogram {
  const hs = list.map((m) => m.histogram(name, labels));
  const le = hs[0]!.le;
  return {
    le,
    cumulative: le.map((_, i) => hs.reduce((n, h) => n + (h.cumulative[i] ?? 0), 0)),
    sum: hs.reduce((n, h) => n + h.sum, 0),
    count: hs.reduce((n, h) => n + h.count, 0),
  };
}

function emptyBreakdown(): Breakdown {
  const n = Number.NaN;
  return {
    requestMeanMs: n,
    requestP99Ms: n,
    confirmMeanMs: n,
    confirmP99Ms: n,
    loopMeanMs: n,
    loopP99Ms: n,
    insertMeanMs: n,
    dispatchMeanMs: n,
    meanBatch: n,
    busyPerSec: n,
    deliveriesPerMessage: n,
    envelopesPerMessage: n,
    droppedCopiesPerMessage: n,
    persistPublishesPerMessage: n,
    persistDeliveriesPerMessage: n,
    dispatchPublishesPerMessage: n,
    gatewayDeliveriesPerMessage: n,
  };
}

function breakdownOf(
  gw0: Metrics[],
  gw1: Metrics[],
  p0: Metrics,
  p1: Metrics,
  sent: number,
  seconds: number,
): Breakdown {
  const mean = (h: Histogram) => (h.count > 0 ? (h.sum / h.count) * 1000 : Number.NaN);
  const q99 = (h: Histogram) => histogramQuantile(h, 0.99) * 1000;
  const req = histogramDelta(
    sumHist(gw0, 'chat_gateway_request_seconds', { method: 'message.create' }),
    sumHist(gw1, 'chat_gateway_request_seconds', { method: 'message.create' }),
  );
  const conf = histogramDelta(
    sumHist(gw0, 'chat_gateway_send_confirm_seconds'),
    sumHist(gw1, 'chat_gateway_send_confirm_seconds'),
  );
  const loop = histogramDelta(p0.histogram('chat_persister_loop_seconds'), p1.histogram('chat_persister_loop_seconds'));
  const ins = histogramDelta(
    p0.histogram('chat_persister_insert_seconds'),
    p1.histogram('chat_persister_insert_seconds'),
  );
  const dis = histogramDelta(
    p0.histogram('chat_persister_dispatch_seconds'),
    p1.histogram('chat_persister_dispatch_seconds'),
  );
  const bat = histogramDelta(p0.histogram('chat_persister_batch_size'), p1.histogram('chat_persister_batch_size'));
  const total = (list: Metrics[], name: string, labels: Record<string, string> = {}) =>
    list.reduce((n, m) => n + m.value(name, labels), 0);
  const perSent = (before: Metrics[], after: Metrics[], name: string, labels: Record<string, string>) =>
    (total(after, name, labels) - total(before, name, labels)) / Math.max(1, sent);
  return {
    requestMeanMs: mean(req),
    requestP99Ms: q99(req),
    confirmMeanMs: mean(conf),
    confirmP99Ms: q99(conf),
    loopMeanMs: mean(loop),
    loopP99Ms: q99(loop),
    insertMeanMs: mean(ins),
    dispatchMeanMs: mean(dis),
    meanBatch: bat.count > 0 ? bat.sum / bat.count : Number.NaN,
    busyPerSec:
      (p1.value('chat_persister_busy_seconds_total') - p0.value('chat_persister_busy_seconds_total')) / seconds,
    deliveriesPerMessage:
      (total(gw1, 'chat_gateway_deliveries_total') - total(gw0, 'chat_gateway_deliveries_total')) / Math.max(1, sent),
    envelopesPerMessage:
      (total(gw1, 'chat_gateway_envelopes_total') - total(gw0, 'chat_gateway_envelopes_total')) / Math.max(1, sent),
    droppedCopiesPerMessage:
      (total(gw1, 'chat_router_duplicate_deliveries_total') - total(gw0, 'chat_router_duplicate_deliveries_total')) /
      Math.max(1, sent),
    persistPublishesPerMessage: perSent(gw0, gw1, 'chat_router_publishes_total', { kind: 'durable', outcome: 'ok' }),
    persistDeliveriesPerMessage: perSent([p0], [p1], 'chat_router_consumed_messages_total', { queue: 'persist' }),
    dispatchPublishesPerMessage: perSent([p0], [p1], 'chat_router_publishes_total', {
      kind: 'dispatch',
      outcome: 'ok',
    }),
    gatewayDeliveriesPerMessage: perSent(gw0, gw1, 'chat_router_consumed_messages_total', { queue: 'gateway' }),
  };
}

let brokerPid: number | undefined;
let redisServerPid: number | undefined;

async function queueDepths(names: readonly string[]): Promise<number> {
  const conn = await amqp.connect(BROKER, { clientProperties: { connection_name: 'bench-w1-depth' } });
  conn.on('error', () => {});
  try {
    let total = 0;
    for (const q of names) {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      try {
        total += (await ch.checkQueue(q)).messageCount;
        await ch.close();
      } catch {
        // a missing queue holds nothing
      }
    }
    return total;
  } finally {
    await conn.close().catch(() => {});
  }
}

async function purge(names: readonly string[]): Promise<void> {
  const conn = await amqp.connect(BROKER, { clientProperties: { connection_name: 'bench-w1-purge' } });
  conn.on('error', () => {});
  try {
    for (const q of names) {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      await ch.purgeQueue(q).catch(() => {});
      await ch.close().catch(() => {});
    }
  } finally {
    await conn.close().catch(() => {});
  }
}

function merge(reports: LoadgenReport[], durationS: number) {
  const byOrigin = new Map<number, Uint8Array>();
  for (const r of reports) {
    for (const [origin, bits] of r.received) {
      const acc = byOrigin.get(origin);
      if (!acc || acc.length < bits.length) {
        const grown = new Uint8Array(Math.max(bits.length, acc?.length ?? 0));
        if (acc) grown.set(acc);
        byOrigin.set(origin, grown);
      }
      const target = byOrigin.get(origin)!;
      for (let i = 0; i < bits.length; i++) target[i]! += bits[i]!;
    }
  }
  let unique = 0;
  let extra = 0;
  let withDup = 0;
  for (const bits of byOrigin.values()) {
    for (let i = 0; i < bits.length; i++) {
      const n = bits[i]!;
      if (n > 0) unique++;
      if (n > 1) {
        extra += n - 1;
        withDup++;
      }
    }
  }
  const recv = latencyHistogram();
  const resp = latencyHistogram();
  for (const r of reports) {
    recv.add(hdr.decodeFromCompressedBase64(r.recvHist));
    resp.add(hdr.decodeFromCompressedBase64(r.respHist));
  }
  let inWindow = 0;
  for (const r of reports)
    for (let s = 0; s < Math.min(durationS, r.perSecond.length); s++) inWindow += r.perSecond[s]!;
  const respErr: Record<string, number> = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.respErr)) respErr[k] = (respErr[k] ?? 0) + v;
  return {
    shedding: sheddingOf(reports, byOrigin),
    sent: reports.reduce((n, r) => n + r.sent, 0),
    responsesOk: reports.reduce((n, r) => n + r.respOk, 0),
    respErr,
    unique,
    extra,
    withDup,
    inWindow,
    latency: summarize(recv),
    confirmLatency: summarize(resp),
    closedSockets: reports.reduce((n, r) => n + r.status.closed, 0),
  };
}

async function main(): Promise<number> {
  const limit = setTimeout(() => {
    console.error('w1: the run exceeded its time limit; giving up');
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

  const prefix = runPrefix('w1');
  const secret = randomBytes(32).toString('hex');
  const mongo = await startMongoProcess();
  const stack: StackEnv = {
    prefix,
    amqpUrl: BROKER,
    mongoUrl: mongo.url,
    mongoDb: prefix.replace(/-/g, '_'),
    redisUrl: REDIS_URL,
  };
  // Limits meant for abuse would throttle the benchmark itself: raise them; everything else is default.
  const gatewayEnv = {
    DEFAULT_GROUP: '',
    RATE_FRAMES: '1000000',
    RATE_BURST: '1000000',
    USER_RATE_REQUESTS: '1000000',
    HTTP_RATE_REQUESTS: '1000000',
  };
  const serverIds = ['gw0', 'gw1'];
  const gateways: GatewayService[] = [];
  let persister: PersisterService | undefined;
  const loadgens: ChildHandle[] = [];
  const channelIds: string[] = [];
  const steps: StepResult[] = [];
  const raws: RawConfirmResult[] = [];
  const notes: string[] = [];
  try {
    persister = await startPersister(stack, {});
    for (const id of serverIds) gateways.push(await startGateway(stack, id, secret, gatewayEnv));
    const gwUrls = gateways.map((g) => g.url);

    console.log(`registering ${CLIENTS} users u0..u${CLIENTS - 1} through the HTTP API (scrypt) …`);
    let t = performance.now();
    const users = await registerUsers(gwUrls, secret, CLIENTS);
    console.log(`  ${fmt((performance.now() - t) / 1000)} s`);

    // K rounds of a seeded random perfect matching: every user gets up to K DM partners.
    const rand = seededRandom(7);
    const partners: Array<Set<number>> = users.map(() => new Set());
    const pairs: Array<[number, number]> = [];
    for (let round = 0; round < PARTNERS; round++) {
      const perm = users.map((u) => u.n);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      for (let i = 0; i + 1 < perm.length; i += 2) {
        const a = perm[i]!;
        const b = perm[i + 1]!;
        if (partners[a]!.has(b)) continue;
        partners[a]!.add(b);
        partners[b]!.add(a);
        pairs.push([a, b]);
      }
    }
    console.log(`creating ${pairs.length} DM channels through the HTTP API …`);
    t = performance.now();
    const channelsOf: string[][] = users.map(() => []);
    const ids = await pool(pairs, 16, ([a, b]) => createDm(gwUrls[a % 2]!, users[a]!, users[b]!));
    pairs.forEach(([a, b], i) => {
      channelsOf[a]!.push(ids[i]!);
      channelsOf[b]!.push(ids[i]!);
    });
    channelIds.push(...ids);
    console.log(`  ${fmt((performance.now() - t) / 1000)} s`);
    // Where a DM's copies go: one publish per partition of the members' slots.
    const gwOf = (n: number) => n % 2;
    const partitionOf = (u: BenchUser) => slotOf(u.id, 1024) % 16;
    const crossGateway = pairs.filter(([a, b]) => gwOf(a) !== gwOf(b)).length / pairs.length;
    const sameGwTwoPartitions =
      pairs.filter(([a, b]) => gwOf(a) === gwOf(b) && partitionOf(users[a]!) !== partitionOf(users[b]!)).length /
      pairs.length;

    // Two load generators, one per gateway (its users), each from its own source address.
    for (let g = 0; g < 2; g++) {
      const lg = new ChildHandle(`lg${g}`, new URL('./lib/ws-loadgen.ts', import.meta.url));
      loadgens.push(lg);
    }
    console.log(`connecting ${CLIENTS} clients (half on each gateway) …`);
    t = performance.now();
    const mine = [0, 1].map((g) => users.filter((u) => gwOf(u.n) === g));
    const opened = await Promise.all(
      loadgens.map((lg, g) =>
        lg.call<{ ready: number; total: number }>(
          'open',
          {
            url: gateways[g]!.wsUrl,
            localAddress: `127.0.0.${21 + g}`,
            clients: mine[g]!.map((u) => ({ token: u.token, user: u.n })),
            concurrency: 100,
          },
          5 * 60_000,
        ),
      ),
    );
    const ready = opened.reduce((n, o) => n + o.ready, 0);
    console.log(`  ${ready} of ${CLIENTS} identified in ${fmt((performance.now() - t) / 1000)} s`);
    if (ready < CLIENTS) throw new Error(`only ${ready} of ${CLIENTS} clients identified`);
    await Promise.all(
      loadgens.map((lg, g) => lg.call('configure', { channels: mine[g]!.map((u) => channelsOf[u.n]) })),
    );

    const procs = {
      gw0: gateways[0]!.pid,
      gw1: gateways[1]!.pid,
      persister: persister.pid,
      standIn: mongo.pid,
      broker: brokerPid,
      redis: redisServerPid,
      lg0: loadgens[0]!.pid,
      lg1: loadgens[1]!.pid,
      bench: process.pid,
    };
    const queues = [`${prefix}.persist`, ...serverIds.map((id) => gatewayQueueName(prefix, id))];

    /** Requests sent in the current step that the gateways have not answered yet. */
    const unanswered = async () => {
      const p = await Promise.all(loadgens.map((lg) => lg.call<{ sent: number; answered: number }>('progress')));
      return p.reduce((n, x) => n + x.sent - x.answered, 0);
    };
    /**
     * Until the step is over everywhere: every request answered by the gateways, then the persist and
     * gateway queues empty. Bounded: unanswered requests cannot be taken back (they are inside the
     * gateways), a backlog left in the queues is purged; the step says which.
     */
    const waitDrained = async (): Promise<{ drainedS: number; purged: boolean; pending: number }> => {
      const started = performance.now();
      let pending = await unanswered();
      while (pending > 0 && performance.now() - started < DRAIN_LIMIT_MS) {
        await sleep(500);
        pending = await unanswered();
      }
      while (performance.now() - started < DRAIN_LIMIT_MS) {
        if ((await queueDepths(queues)) === 0) {
          const s = (performance.now() - started) / 1000;
          await sleep(1000);
          return { drainedS: s, purged: false, pending };
        }
        await sleep(500);
      }
      await purge(queues);
      await sleep(2000);
      return { drainedS: DRAIN_LIMIT_MS / 1000, purged: true, pending };
    };

    const step = async (mode: 'open' | 'closed', tag: string, rate: number, durationS: number): Promise<StepResult> => {
      const quiet = await waitForQuiet(procs, 60_000);
      const t0 = epochMs();
      await Promise.all(loadgens.map((lg) => lg.call('track', { tag, t0 })));
      // An overloaded gateway may not answer /metrics in time: the step goes on without its breakdown.
      const scrapeAll = () =>
        Promise.all([
          Promise.all(gateways.map((g) => scrape(`${g.url}/metrics`))),
          scrape(persister!.metricsUrl),
        ]).catch((err: unknown) => {
          console.warn(`  metrics unavailable: ${(err as Error).message}`);
          return undefined;
        });
      const before = await scrapeAll();
      const samples: StepResult['samples'] = [];
      let sampling = true;
      const sampler = (async () => {
        const conn = await amqp.connect(BROKER, { clientProperties: { connection_name: `${prefix}:sampler` } });
        conn.on('error', () => {});
        const ch = await conn.createChannel();
        ch.on('error', () => {});
        const begun = performance.now();
        try {
          while (sampling) {
            const [persistDepth, ...gws] = await Promise.all(
              queues.map((q) => ch.checkQueue(q).then((r) => r.messageCount)),
            );
            const stored = (await scrape(persister!.metricsUrl)).value('chat_persister_stored_total');
            samples.push({
              s: (performance.now() - begun) / 1000,
              persistDepth: persistDepth!,
              gatewayDepth: gws.reduce((a, b) => a + b, 0),
              stored,
            });
            await sleep(1000);
          }
        } finally {
          await conn.close().catch(() => {});
        }
      })();
      const cpu = new CpuMeter(procs);
      const rq = new RunQueueMeter(procs);
      const runs =
        mode === 'open'
          ? await Promise.all(
              loadgens.map((lg, g) =>
                lg.call<{ sent: number; ms: number; maxBehind: number }>(
                  'run',
                  { tag, rate: rate / 2, durationMs: durationS * 1000, lg: g },
                  durationS * 1000 + 60_000,
                ),
              ),
            )
          : await Promise.all(
              loadgens.map((lg, g) =>
                lg.call<{ sent: number; ms: number }>(
                  'closedLoop',
                  { tag, durationMs: durationS * 1000, lg: g, on: 'echo' },
                  durationS * 1000 + 60_000,
                ),
              ),
            );
      const reading = cpu.stop();
      const runQueue = rq.stop();
      await sleep(GRACE_MS);
      sampling = false;
      await sampler.catch((err: unknown) => console.warn(`  sampler: ${(err as Error).message}`));
      const after = await scrapeAll();
      const reports = await Promise.all(loadgens.map((lg) => lg.call<LoadgenReport>('report', {}, 60_000)));
      const m = merge(reports, durationS);
      const breakdown =
        before && after
          ? breakdownOf(before[0], after[0], before[1], after[1], m.sent, durationS + GRACE_MS / 1000)
          : emptyBreakdown();
      const sendMs = Math.max(...runs.map((r) => r.ms));
      const { drainedS, purged, pending } = await waitDrained();
      // Acked-lost is judged once the queues are empty (late is not lost): the receipts again, after the drain.
      const drained = merge(
        await Promise.all(loadgens.map((lg) => lg.call<LoadgenReport>('report', {}, 60_000))),
        durationS,
      );
      const shedding = {
        ...m.shedding,
        acked: drained.shedding.acked,
        ackedLost: drained.shedding.ackedLost,
        lateDelivered: drained.shedding.ackedDelivered - m.shedding.ackedDelivered,
      };
      return {
        tag,
        mode,
        rate,
        durationS,
        sent: m.sent,
        sentPerSec: m.sent / (sendMs / 1000),
        maxBehind: Math.max(...runs.map((r) => ('maxBehind' in r ? (r.maxBehind as number) : 0))),
        responsesOk: m.responsesOk,
        responseErrors: m.respErr,
        received: m.unique,
        deliveredPerSec: m.inWindow / durationS,
        lost: m.sent - m.shedding.refused - m.unique,
        shedding,
        duplicateCopies: m.extra,
        messagesWithDuplicates: m.withDup,
        latency: m.latency,
        confirmLatency: m.confirmLatency,
        cpu: reading,
        drainedS,
        purged,
        closedSockets: m.closedSockets,
        breakdown,
        samples,
        storedPerSec: storedRate(
          samples,
          durationS,
          before?.[1].value('chat_persister_stored_total') ?? samples[0]?.stored ?? 0,
        ),
        maxPersistDepth: Math.max(0, ...samples.map((x) => x.persistDepth)),
        maxGatewayDepth: Math.max(0, ...samples.map((x) => x.gatewayDepth)),
        quietStart: quiet.quiet,
        unansweredAfterDrain: pending,
        runQueue,
      };
    };

    const sample = Buffer.from(
      JSON.stringify({
        v: 1,
        type: 'message.create',
        id: '264905529753620487',
        channel_id: channelIds[0],
        author: { id: users[0]!.id, username: users[0]!.username },
        content: ''.padEnd(100, 'x'),
        timestamp: new Date().toISOString(),
      }),
    );
    const rawIds = new SnowflakeGenerator({ workerId: 1022 });
    const rawRun = async (n: number) => {
      const bodies = Array.from({ length: n }, () => {
        const b = JSON.parse(sample.toString()) as { id: string };
        b.id = rawIds.nextSync();
        return Buffer.from(JSON.stringify(b));
      });
      await waitForQuiet(procs, 60_000);
      const r = await rawQuorumConfirm(BROKER, `${prefix}.raw`, bodies, 1000, procs, 180_000);
      if (r.stored !== r.messages) throw new Error(`raw: ${r.stored} of ${r.messages} confirmed messages in the queue`);
      return r;
    };

    console.log('warm-up: 5 s at 1,000 msg/s (fills the membership cache), not reported');
    await step('open', 'warm', 1000, 5);

    console.log(
      `W5 broker ceiling: raw amqplib confirms, window 1,000, ${RAW_MESSAGES} messages into a fresh quorum queue`,
    );
    raws.push(await rawRun(RAW_MESSAGES));
    console.log(`  ${fmt(raws[0]!.perSec)} msg/s`);

    console.log(
      `W5 whole path: closed loop, each of ${CLIENTS} clients sends its next message when its own copy came back through the whole path, ${CLOSED_S} s`,
    );
    const closed = await step('closed', 'closed', 0, CLOSED_S);
    steps.push(closed);
    console.log(`  delivered ${fmt(closed.deliveredPerSec)}/s, p99 ${fmt(closed.latency.p99Ms)} ms`);
    raws.push(await rawRun(RAW_MESSAGES));
    console.log(`  raw ceiling again: ${fmt(raws[1]!.perSec)} msg/s`);
    console.log(`W1 sweep: ${RATES.join(', ')} msg/s, ${DURATION_S} s each`);
    for (const rate of RATES) {
      const r = await step('open', `r${rate}`, rate, DURATION_S);
      steps.push(r);
      console.log(
        `  R ${String(rate).padStart(6)}: sent ${fmt(r.sentPerSec)}/s delivered ${fmt(r.deliveredPerSec)}/s  p50 ${fmt(r.latency.p50Ms)} ms ` +
          `p99 ${fmt(r.latency.p99Ms)} ms max ${fmt(r.latency.maxMs)} ms  lost ${r.lost}  dup ${r.messagesWithDuplicates}  ` +
          `gw ${pct(r.cpu.percent.gw0)}/${pct(r.cpu.percent.gw1)} persister ${pct(r.cpu.percent.persister)} broker ${pct(r.cpu.percent.broker)}` +
          `${r.purged ? `  (backlog purged after ${DRAIN_LIMIT_MS / 1000} s)` : ` (drained in ${fmt(r.drainedS)} s)`}` +
          `${r.unansweredAfterDrain > 0 ? `  ${r.unansweredAfterDrain} requests still unanswered in the gateways` : ''}`,
      );
    }

    // ---- overload: 2× and 4× the knee ---------------------------------------------------------
    const meets = (s: StepResult) =>
      s.lost === 0 && s.shedding.refused === 0 && s.shedding.otherErrors === 0 && s.latency.p99Ms < TARGET_P99_MS;
    const sweepSteps = steps.filter((s) => s.mode === 'open');
    const { knee, from: kneeFrom } = kneeOf(
      KNEE,
      sweepSteps.map((s) => ({ rate: s.rate, ok: meets(s) })),
    );
    const overloadSteps: StepResult[] = [];
    if (OVERLOAD && knee !== undefined) {
      console.log(`Overload: 2× and 4× the knee (${fmt(knee)} msg/s, from ${kneeFrom}), ${DURATION_S} s each`);
      for (const factor of [2, 4]) {
        const r = await step('open', `o${factor}x`, knee * factor, DURATION_S);
        overloadSteps.push(r);
        const sh = r.shedding;
        console.log(
          `  ${factor}× (${fmt(r.rate)} msg/s): acked ${fmt(sh.acked / DURATION_S)}/s refused ${fmt(sh.refused / DURATION_S)}/s ` +
            `goodput ${fmt(sh.ackedDelivered / DURATION_S)}/s acked-lost ${sh.ackedLost} other errors ${sh.otherErrors} ` +
            `p99 ${fmt(r.latency.p99Ms)} ms dup ${r.messagesWithDuplicates}`,
        );
      }
    } else if (OVERLOAD) console.log(`Overload steps skipped: ${kneeFrom}`);
    steps.push(...overloadSteps);
    const label = (s: StepResult) =>
      s.mode === 'closed'
        ? 'closed loop (W5)'
        : s.tag.startsWith('o')
          ? `${s.tag.slice(1)} knee (${fmt(s.rate)})`
          : s.rate;

    // ---- report -------------------------------------------------------------------------------
    const logged = Object.fromEntries([...gateways, persister].map((svc) => [svc.name, warnings(svc.logs)] as const));
    const loggedNote = Object.entries(logged)
      .filter(([, w]) => Object.keys(w).length > 0)
      .map(
        ([name, w]) =>
          `${name}: ${Object.entries(w)
            .map(([m, n]) => `“${m}” ×${n}`)
            .join(', ')}`,
      )
      .join('; ');
    const open = sweepSteps;
    const ok = open.filter(meets);
    const best = ok.length > 0 ? Math.max(...ok.map((s) => s.rate)) : undefined;
    const sweepTable = formatTable(
      [
        'R msg/s',
        'sent/s',
        'delivered/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'sent',
        'lost',
        'refused',
        'other errors',
        'dup msgs',
        'confirm p99 ms',
        'persister stored/s',
        'max persist lag',
        'p99<100, no loss, none refused',
        'drain s',
      ],
      steps.map((s) => [
        label(s),
        s.sentPerSec,
        s.deliveredPerSec,
        s.latency.p50Ms,
        s.latency.p99Ms,
        s.latency.maxMs,
        s.sent,
        s.lost,
        s.shedding.refused,
        s.shedding.otherErrors,
        s.messagesWithDuplicates,
        s.confirmLatency.p99Ms,
        s.storedPerSec,
        s.maxPersistDepth,
        s.mode === 'open' && !s.tag.startsWith('o') ? meets(s) : '—',
        s.purged ? 'purged' : s.drainedS,
      ]),
    );
    const cpuTable = formatTable(
      [
        'R msg/s',
        'gw0',
        'gw1',
        'persister',
        'stand-in',
        'broker',
        'redis',
        'lg0',
        'lg1',
        'bench',
        'all measured',
        'other CPU',
      ],
      steps.map((s) => {
        const p = s.cpu.percent;
        const sum = Object.values(p).reduce<number>((a, b) => a + (b ?? 0), 0);
        return [
          label(s),
          pct(p.gw0),
          pct(p.gw1),
          pct(p.persister),
          pct(p.standIn),
          pct(p.broker),
          pct(p.redis),
          pct(p.lg0),
          pct(p.lg1),
          pct(p.bench),
          pct(sum),
          pct(s.cpu.others),
        ];
      }),
    );
    const timeTable = formatTable(
      [
        'R msg/s',
        'gw request mean ms',
        'gw request p99 ms',
        'gw confirm mean ms',
        'gw confirm p99 ms',
        'persister loop mean ms',
        'loop p99 ms',
        'insert mean ms',
        'dispatch mean ms',
        'mean batch',
        'busy s/s',
        'envelopes / msg',
        'dropped copies / msg',
        'frames / msg',
      ],
      steps.map((s) => {
        const b = s.breakdown;
        return [
          label(s),
          b.requestMeanMs,
          b.requestP99Ms,
          b.confirmMeanMs,
          b.confirmP99Ms,
          b.loopMeanMs,
          b.loopP99Ms,
          b.insertMeanMs,
          b.dispatchMeanMs,
          b.meanBatch,
          b.busyPerSec,
          b.envelopesPerMessage,
          b.droppedCopiesPerMessage,
          b.deliveriesPerMessage,
        ];
      }),
    );
    const rqTable = formatTable(
      ['R msg/s', 'gw0', 'gw1', 'persister', 'stand-in', 'broker', 'redis', 'lg0', 'lg1'],
      steps.map((s) => {
        const q = s.runQueue;
        return [
          label(s),
          pct(q.gw0),
          pct(q.gw1),
          pct(q.persister),
          pct(q.standIn),
          pct(q.broker),
          pct(q.redis),
          pct(q.lg0),
          pct(q.lg1),
        ];
      }),
    );
    const rawMean = raws.reduce((a, r) => a + r.perSec, 0) / raws.length;
    const bestDelivered = Math.max(...steps.map((s) => s.deliveredPerSec));
    const w5Table = formatTable(
      ['measure', 'msg/s', 'vs ceiling', 'p50 ms', 'p99 ms', 'bench CPU', 'broker CPU', 'other CPU'],
      [
        ...raws.map((r, i) => [
          `raw confirm into a quorum queue, window 1,000 (${i === 0 ? 'before' : 'after'} the closed loop)`,
          r.perSec,
          ratio(r.perSec, rawMean),
          r.latency.p50Ms,
          r.latency.p99Ms,
          pct(r.cpu.percent.bench),
          pct(r.cpu.percent.broker),
          pct(r.cpu.others),
        ]),
        [
          `whole path, closed loop (${CLIENTS} outstanding until echoed): WebSocket → confirm → stored → delivered`,
          closed.deliveredPerSec,
          ratio(closed.deliveredPerSec, rawMean),
          closed.latency.p50Ms,
          closed.latency.p99Ms,
          pct(closed.cpu.percent.bench),
          pct(closed.cpu.percent.broker),
          pct(closed.cpu.others),
        ],
        [
          'whole path, best delivered/s of the open-loop sweep',
          Math.max(...open.map((s) => s.deliveredPerSec)),
          ratio(Math.max(...open.map((s) => s.deliveredPerSec)), rawMean),
          '—',
          '—',
          '—',
          '—',
          '—',
        ],
      ],
    );
    const kneeStep = sweepSteps.find((s) => s.rate === knee);
    const shedTable =
      knee !== undefined && overloadSteps.length > 0
        ? overloadTable([...(kneeStep ? [kneeStep] : []), ...overloadSteps], knee)
        : undefined;
    const brokerTable = formatTable(
      [
        'R msg/s',
        'persist publishes / msg',
        'persist deliveries / msg',
        'dispatch publishes / msg',
        'gateway deliveries / msg',
        'broker messages / msg',
      ],
      steps.map((s) => {
        const b = s.breakdown;
        return [
          label(s),
          b.persistPublishesPerMessage,
          b.persistDeliveriesPerMessage,
          b.dispatchPublishesPerMessage,
          b.gatewayDeliveriesPerMessage,
          b.persistPublishesPerMessage +
            b.persistDeliveriesPerMessage +
            b.dispatchPublishesPerMessage +
            b.gatewayDeliveriesPerMessage,
        ];
      }),
    );
    const cpuPerMsgTable = cpuPerDeliveredTable(
      steps.map((s) => ({ label: String(label(s)), deliveredPerSec: s.deliveredPerSec, cpu: s.cpu })),
    );
    console.log(
      `\n${sweepTable}\n\n${shedTable ? `${shedTable}\n\n` : ''}${timeTable}\n\n${brokerTable}\n\n${cpuTable}\n\n${cpuPerMsgTable}\n\n${rqTable}\n\n${w5Table}\n`,
    );
    notes.push(
      best !== undefined
        ? `Highest R with p99 < ${TARGET_P99_MS} ms, zero loss and nothing refused: **${fmt(best)} msg/s**.`
        : `No R met p99 < ${TARGET_P99_MS} ms with zero loss and nothing refused.`,
      knee !== undefined && overloadSteps.length > 0
        ? `Overload steps at 2× and 4× the knee ${fmt(knee)} msg/s (from ${kneeFrom}): refused = RESPONSE error \`overloaded\` (the gateway shed the write, nothing stored; the loaders never retry: the benchmark measures shedding); ` +
            'acked-lost = acked and never received, judged after the drain (queues empty; must be 0 unless the step says purged); acked, late = delivered only after the grace period; goodput = messages acked AND delivered (by the end of the grace period) / send window; p99 is over delivered messages only. ' +
            'µs CPU per delivered message = CPU % of one core of the process / 100 × 10⁶ / delivered per second, over the send window.'
        : `Overload steps not run (${OVERLOAD ? kneeFrom : '--no-overload'}).`,
      `W5: whole path (closed loop) / broker ceiling = ${ratio(closed.deliveredPerSec, rawMean)} (ceiling = mean of the two raw runs, ${fmt(rawMean)} msg/s); best delivered/s of the whole run ${fmt(bestDelivered)}.`,
      `Latency = send (loader clock) → MESSAGE_CREATE frame at the recipient's socket (other loader process; same machine clock), every message, HDR. ` +
        `lost = sent, not refused, and not received by the recipient ${GRACE_MS / 1000} s after the run; refused = \`overloaded\` answers; other errors = the other RESPONSE errors (codes seen: ${
          [...new Set(steps.flatMap((s) => Object.keys(s.responseErrors)))].join(', ') || 'none'
        }). delivered/s = unique receipts during the send window / its length.`,
      `dup msgs = messages a recipient received more than once. A DM is published once per partition of its members' slots (here ${fmt(crossGateway * 100, 0)}% of the ${pairs.length} DM pairs span the two gateways, ` +
        `${fmt(sameGwTwoPartitions * 100, 0)}% have both members on one gateway in different partitions); since commit 7b0607b the gateway's router hands a dispatch to the gateway once per id, before it every extra copy reached the sockets.`,
      `${CLIENTS} clients, ${pairs.length} DM channels (${PARTNERS} rounds of random pairing: each user has up to ${PARTNERS} DM partners); each send picks a random ` +
        `client of the loader and one of its DM channels. ~100-byte contents. Loaders: raw \`ws\` clients, one process per gateway (127.0.0.21/22), paced by a 5 ms timer.`,
      'Gateways run with their defaults except the abuse limits (RATE_FRAMES/RATE_BURST/USER_RATE_REQUESTS/HTTP_RATE_REQUESTS raised: they would throttle the benchmark; the per-address socket caps and sign-up/login budgets raised, since every client comes from two loopback addresses — bench/lib/services.ts BENCH_GATEWAY_CAPS; SCRYPT_LOG_N=10 for the sign-ups) and DEFAULT_GROUP off; the persister with its defaults (prefetch 2,000, batch 500, 5 ms).',
      `Drain: after each step the run waits until the gateways have answered every request of the step and the persist queue and both gateway queues are empty (≤ ${DRAIN_LIMIT_MS / 1000} s; a queue backlog left then is purged, and the step says so), so steps do not overlap. Order: warm-up, raw ceiling, W5 closed loop, raw ceiling again, then the sweep (ascending), so that the overloaded steps cannot disturb W5.`,
      ...steps
        .filter((s) => s.unansweredAfterDrain > 0)
        .map(
          (s) =>
            `R ${fmt(s.rate)}: ${fmt(s.unansweredAfterDrain)} requests were still unanswered by the gateways ${DRAIN_LIMIT_MS / 1000} s after the step; they overlap the next step.`,
        ),
      'CPU columns: % of one core over the send window; the machine has 2 cores (200%). "all measured" sums the processes of the run plus the broker and Redis. ' +
        'Run-queue delay (/proc/<pid>/task/*/schedstat) is the time a process was ready to run and had no core: at "all measured" ≈ 200% every process is rationed, whatever its CPU% says.',
      `Warnings the services logged during the run (pino level ≥ warn; most are rate-limited to one per 10 s): ${loggedNote || 'none'}.`,
      STAND_IN_NOTE,
      otherLoadNote(steps.map((s) => s.cpu)),
    );
    if (DURATION_S !== 15) notes.push(`Duration reduced to ${DURATION_S} s per rate (docs/benchmarks.md says 15 s).`);
    for (const n of notes) console.log(`- ${n}`);
    if (SAVE) {
      const saved = saveResults({
        scenario: 'w1',
        title: 'W1 — direct messages through the whole system (with W5 as the reference)',
        description:
          '2 gateway processes, a persister, 1,000 WebSocket clients (u0..u999, half on each gateway) in two loader processes; ' +
          'DMs paced at an aggregate rate R; send → receive latency of every message, loss, duplicates, CPU per process. ' +
          'W5 in the same run: raw quorum-queue confirms (broker ceiling) and the whole path flat out. ' +
          '**MongoDB is the in-memory stand-in, not MongoDB.**',
        command,
        system,
        startedAt,
        params: {
          rates: RATES,
          durationS: DURATION_S,
          clients: CLIENTS,
          partners: PARTNERS,
          dmChannels: pairs.length,
          closedS: CLOSED_S,
          rawMessages: RAW_MESSAGES,
          graceMs: GRACE_MS,
          store: 'MongoDB stand-in (testkit, in memory)',
          quick,
        },
        tables: [
          { heading: 'W1 sweep (open loop) and W5 closed loop', markdown: sweepTable },
          ...(shedTable ? [{ heading: 'Overload: 2× and 4× the knee', markdown: shedTable }] : []),
          {
            heading: 'Where the time went (services’ own histograms, step + grace; p99 interpolated in buckets)',
            markdown: timeTable,
          },
          {
            heading:
              'Broker messages per message sent (publishes and deliveries; a write bundle or dispatch bundle counts once)',
            markdown: brokerTable,
          },
          { heading: 'CPU per process over the send window (% of one core)', markdown: cpuTable },
          { heading: 'µs of CPU per delivered message, per process', markdown: cpuPerMsgTable },
          {
            heading: 'Waiting for a CPU: run-queue delay over the send window (% of the window, summed over threads)',
            markdown: rqTable,
          },
          { heading: 'W5 — whole path vs broker ceiling, same run', markdown: w5Table },
        ],
        notes,
        data: { steps, raws, rawMean, crossGateway, sameGwTwoPartitions, pairs: pairs.length, best, logged },
      });
      console.log(`saved ${saved.json}\n      ${saved.markdown}`);
    }
    return 0;
  } finally {
    await Promise.all(loadgens.map((lg) => lg.call('close', { timeoutMs: 10_000 }, 30_000).catch(() => {})));
    await Promise.all(loadgens.map((lg) => lg.stop(10_000)));
    for (const g of gateways) await g.stop('SIGTERM', 20_000).catch(() => {});
    await persister?.stop('SIGTERM', 20_000).catch(() => {});
    await cleanupRun(BROKER, prefix, serverIds, channelIds).catch((err: unknown) =>
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
