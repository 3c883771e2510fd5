// The seed's Little's-law experiment on our persister (the seed write-up's first experiment, docs/design.md §4): the real persister
// process drains a pre-filled persist queue at 1, 10, 100 and 1,000 writes in flight
// (PERSISTER_PREFETCH), so it is the bottleneck; over a fixed window after a warm-up we read its own
// metrics: stored/s, whole-loop latency, busy seconds per second. Then (W5) the whole durable path —
// router.durableWrite → stored → dispatched into a gateway queue — as a ratio to the raw quorum-queue
// confirm ceiling, interleaved in the same run. The store is the MongoDB stand-in: not MongoDB's speed.
import {
  amqpUserOf,
  createRouter,
  type MessageCreateWrite,
  type Router,
  SnowflakeGenerator,
  slotOf,
} from '@chat/router';
import { createStore } from '@chat/store';
import { amqpUrl } from '@chat/testkit';
import amqp from 'amqplib';
import { MongoClient } from 'mongodb';
import { histogramQuantile, Metrics, observedBetween, parseMetrics, scrape } from './lib/prom.js';
import { durableProps, publishConfirmed, type RawConfirmResult, rawQuorumConfirm } from './lib/raw-confirm.js';
import { BenchFailure, defineScenario, type ScenarioOutcome } from './lib/scenario.js';
import {
  cleanupRun,
  type PersisterService,
  REDIS_URL,
  redisPid,
  runPrefix,
  STAND_IN_NOTE,
  type StackEnv,
  startMongoProcess,
  startPersister,
} from './lib/services.js';
import {
  epochMs,
  type LatencySummary,
  latencyHistogram,
  median,
  recordMs,
  seededRandom,
  sleep,
  summarize,
} from './lib/stats.js';
import { CpuMeter, type CpuReading, otherLoadNote, printSystem, systemBrokerPid, waitForQuiet } from './lib/system.js';
import { fmt, formatTable, pct } from './lib/table.js';

const scenario = defineScenario({
  name: 'persister',
  summary:
    "Persister: the seed's Little's-law experiment (writes in flight) and the whole durable path vs the raw broker ceiling (W5)",
  flags: {
    levels: {
      type: 'ints',
      default: [1, 10, 100, 1000],
      min: 1,
      max: 65_535,
      help: 'writes in flight (PERSISTER_PREFETCH), one level each',
    },
    'warmup-s': { type: 'int', default: 3, min: 1, max: 60, help: 'seconds before each window' },
    'window-s': { type: 'int', default: 10, min: 2, max: 120, help: 'seconds measured per level' },
    'batch-div': {
      type: 'int',
      default: 4,
      min: 1,
      max: 1000,
      help: 'batch size = ceil(in flight / D): D = 4 and 2,000 in flight give the default 500',
    },
    'path-messages': { type: 'int', default: 40_000, min: 1000, max: 1_000_000, help: 'messages per whole-path run' },
    rounds: { type: 'int', default: 3, min: 1, max: 10, help: 'whole path / raw rounds' },
  },
  quick: { levels: [1, 100], 'warmup-s': 2, 'window-s': 4, 'path-messages': 5000, rounds: 1 },
  limitMinutes: 25,
});
const {
  levels: LEVELS,
  'warmup-s': WARMUP_S,
  'window-s': WINDOW_S,
  'batch-div': BATCH_DIV,
  'path-messages': PATH_MESSAGES,
  rounds: ROUNDS,
} = scenario.flags;
const quick = scenario.quick;
const URL = amqpUrl();
const WINDOW = 1000;
const USERS = 200;
const CHANNELS = 100;
const CONTENT_BYTES = 100;
/** Pre-fill bounds: the queue must not run dry during a level, and must stay a sane size. */
const MIN_PREFILL = quick ? 10_000 : 30_000;
const MAX_PREFILL = quick ? 60_000 : 300_000;
/** The persist queue's x-max-length for this bench (the default 100,000 would refuse the pre-fill). */
const PERSIST_BOUND = 400_000;

interface LevelResult {
  inFlight: number;
  batchSize: number;
  prefilled: number;
  windowS: number;
  storedPerSec: number;
  dispatchedPerSec: number;
  /** AMQP deliveries into the sink gateway queue per stored write (the router drops the extra copies). */
  amqpCopiesPerWrite: number;
  loopP50Ms: number;
  loopP99Ms: number;
  loopMeanMs: number;
  /** λ × W̄: the mean number in the loop that Little's law predicts from rate and mean latency. */
  littleL: number;
  /** The persister's in-flight gauge, sampled once per second. */
  sampledInFlight: number;
  busyPerSec: number;
  insertMeanMs: number;
  dispatchMeanMs: number;
  meanBatch: number;
  minDepth: number;
  ranDry: boolean;
  /** Writes the persister dead-lettered during the window (any is a failure of the bench's input). */
  deadLettered: number;
  cpu: CpuReading;
  /** Started in a lull of other people's load (else proceeded after 60 s). */
  quietStart: boolean;
}

interface PathResult {
  round: number;
  variant: 'raw' | 'path';
  messages: number;
  ms: number;
  perSec: number;
  /** Path: writes confirmed per second by the broker (router.durableWrite). */
  confirmedPerSec?: number;
  latency: LatencySummary;
  lost?: number;
  duplicates?: number;
  cpu: CpuReading;
}

const ids = new SnowflakeGenerator({ workerId: 1023 });
const rand = seededRandom(42);
const channels: Array<{ id: string; members: [string, string] }> = [];

function content(tag: string, seq: number): string {
  const head = `${tag}|${seq}|${epochMs().toFixed(2)}|`;
  return head.padEnd(CONTENT_BYTES, 'x');
}

function makeWrite(tag: string, seq: number): MessageCreateWrite {
  const c = channels[Math.floor(rand() * channels.length)]!;
  const author = c.members[Math.floor(rand() * 2)]!;
  const id = ids.nextSync();
  return {
    v: 1,
    type: 'message.create',
    id,
    channel_id: c.id,
    author: { id: author, username: author },
    content: content(tag, seq),
    nonce: `n${seq}`,
    timestamp: new Date().toISOString(),
  };
}

/** Counts what the persister dispatched into a gateway queue bound to every member's slot. */
class Sink {
  deliveries = 0;
  unique = 0;
  duplicates = 0;
  lastAt = 0;
  #tag = '';
  #seen = new Uint8Array(0);
  #hist = latencyHistogram();

  track(tag: string, count: number): void {
    this.#tag = tag;
    this.#seen = new Uint8Array(count);
    this.unique = 0;
    this.duplicates = 0;
    this.lastAt = 0;
    this.#hist = latencyHistogram();
  }

  latency(): LatencySummary {
    return summarize(this.#hist);
  }

  onEnvelope(data: unknown): void {
    this.deliveries++;
    const c = (data as { content?: unknown } | null)?.content;
    if (typeof c !== 'string' || !c.startsWith(`${this.#tag}|`)) return;
    const [, seqText, sentText] = c.split('|', 3);
    const seq = Number(seqText);
    if (!(seq >= 0 && seq < this.#seen.length)) return;
    if (this.#seen[seq]) {
      this.duplicates++;
      return;
    }
    this.#seen[seq] = 1;
    this.unique++;
    this.lastAt = epochMs();
    recordMs(this.#hist, this.lastAt - Number(sentText));
  }
}

async function queueDepth(queue: string): Promise<number> {
  const conn = await amqp.connect(URL, { clientProperties: { connection_name: `${queue}-depth` } });
  conn.on('error', () => {});
  try {
    const ch = await conn.createChannel();
    const { messageCount } = await ch.checkQueue(queue);
    await ch.close();
    return messageCount;
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Tops the persist queue up to `target` ready messages (confirmed), the persister being stopped. */
async function prefill(queue: string, target: number): Promise<number> {
  const depth = await queueDepth(queue);
  const missing = Math.max(0, target - depth);
  if (missing === 0) return depth;
  const conn = await amqp.connect(URL, { clientProperties: { connection_name: `${queue}-prefill` }, noDelay: true });
  conn.on('error', () => {});
  try {
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => {});
    const chunk = 20_000;
    for (let done = 0; done < missing; done += chunk) {
      const writes = Array.from({ length: Math.min(chunk, missing - done) }, (_, i) => makeWrite('p1', done + i));
      const bodies = writes.map((w) => Buffer.from(JSON.stringify(w)));
      // `user_id` as the router sets it: the persister dead-letters writes from unknown publishers.
      await publishConfirmed(ch, queue, bodies, WINDOW, 120_000, (i) => ({
        ...durableProps('message.create', writes[i]!.id),
        userId: amqpUserOf(URL),
      }));
    }
    await ch.close();
  } finally {
    await conn.close().catch(() => {});
  }
  return queueDepth(queue);
}

let brokerPid: number | undefined;
let redisServerPid: number | undefined;
let mongoPid: number | undefined;

function procs(persister: PersisterService | undefined) {
  return { persister: persister?.pid, standIn: mongoPid, broker: brokerPid, redis: redisServerPid, bench: process.pid };
}

/** AMQP deliveries the sink's router received so far: handed over plus dropped as per-partition duplicates. */
async function sinkCopies(router: Router): Promise<number> {
  const m = new Metrics(parseMetrics(await router.registry.metrics()));
  return (
    m.value('chat_router_deliveries_total', { queue: 'gateway' }) + m.value('chat_router_duplicate_deliveries_total')
  );
}

async function runLevel(
  stack: StackEnv,
  sink: Sink,
  sinkRouter: Router,
  inFlight: number,
  estimate: number,
): Promise<LevelResult> {
  const batchSize = Math.max(1, Math.ceil(inFlight / BATCH_DIV));
  const target = Math.min(MAX_PREFILL, Math.max(MIN_PREFILL, Math.ceil(estimate * (WARMUP_S + WINDOW_S + 5))));
  const prefilled = await prefill(`${stack.prefix}.persist`, target);
  const quiet = await waitForQuiet(procs(undefined), 60_000);
  const persister = await startPersister(stack, {
    PERSIST_MAX_LENGTH: String(PERSIST_BOUND),
    PERSISTER_PREFETCH: String(inFlight),
    PERSISTER_BATCH_SIZE: String(batchSize),
    PERSISTER_BATCH_MS: '5',
  });
  try {
    await sleep(WARMUP_S * 1000);
    const m0 = await scrape(persister.metricsUrl);
    const cpu = new CpuMeter(procs(persister));
    const sink0 = sink.deliveries;
    const copies0 = await sinkCopies(sinkRouter);
    const inFlightSamples: number[] = [];
    let minDepth = Number.POSITIVE_INFINITY;
    const end = performance.now() + WINDOW_S * 1000;
    let m1: Metrics = m0;
    while (performance.now() < end) {
      await sleep(Math.min(1000, Math.max(0, end - performance.now())));
      m1 = await scrape(persister.metricsUrl);
      inFlightSamples.push(m1.value('chat_persister_in_flight'));
      minDepth = Math.min(minDepth, m1.value('chat_persister_queue_depth'));
    }
    const reading = cpu.stop();
    const sink1 = sink.deliveries;
    const copies1 = await sinkCopies(sinkRouter);
    const windowS = (m1.at - m0.at) / 1000;
    const stored = m1.value('chat_persister_stored_total') - m0.value('chat_persister_stored_total');
    const loop = observedBetween(m0, m1, 'chat_persister_loop_seconds');
    const insert = observedBetween(m0, m1, 'chat_persister_insert_seconds');
    const dispatch = observedBetween(m0, m1, 'chat_persister_dispatch_seconds');
    const batches = observedBetween(m0, m1, 'chat_persister_batch_size');
    const busy = m1.value('chat_persister_busy_seconds_total') - m0.value('chat_persister_busy_seconds_total');
    const deadLettered = m1.value('chat_persister_dead_letters_total') - m0.value('chat_persister_dead_letters_total');
    const storedPerSec = stored / windowS;
    const loopMeanMs = loop.count > 0 ? (loop.sum / loop.count) * 1000 : Number.NaN;
    return {
      inFlight,
      batchSize,
      prefilled,
      windowS,
      storedPerSec,
      dispatchedPerSec: (sink1 - sink0) / (reading.wallMs / 1000),
      amqpCopiesPerWrite: (copies1 - copies0) / Math.max(1, sink1 - sink0),
      loopP50Ms: histogramQuantile(loop, 0.5) * 1000,
      loopP99Ms: histogramQuantile(loop, 0.99) * 1000,
      loopMeanMs,
      littleL: storedPerSec * (loopMeanMs / 1000),
      sampledInFlight: inFlightSamples.reduce((a, b) => a + b, 0) / Math.max(1, inFlightSamples.length),
      busyPerSec: busy / windowS,
      insertMeanMs: insert.count > 0 ? (insert.sum / insert.count) * 1000 : Number.NaN,
      dispatchMeanMs: dispatch.count > 0 ? (dispatch.sum / dispatch.count) * 1000 : Number.NaN,
      meanBatch: batches.count > 0 ? batches.sum / batches.count : Number.NaN,
      minDepth,
      ranDry: minDepth === 0,
      deadLettered,
      cpu: reading,
      quietStart: quiet.quiet,
    };
  } finally {
    const code = await persister.stop('SIGTERM', 20_000);
    if (code !== 0) console.warn(`  persister exited with ${code} after the level`);
  }
}

/** The whole durable path: W concurrent router.durableWrite callers → persister → sink gateway queue. */
async function runPath(writer: Router, sink: Sink, persister: PersisterService, round: number): Promise<PathResult> {
  const tag = `p2r${round}`;
  sink.track(tag, PATH_MESSAGES);
  const hist = latencyHistogram();
  const cpu = new CpuMeter(procs(persister));
  const started = epochMs();
  let next = 0;
  const caller = async () => {
    while (next < PATH_MESSAGES) {
      const w = makeWrite(tag, next++);
      const t0 = performance.now();
      await writer.durableWrite(w);
      recordMs(hist, performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, caller));
  const confirmedMs = epochMs() - started;
  const deadline = performance.now() + 120_000;
  let lastProgress = performance.now();
  let lastUnique = sink.unique;
  while (sink.unique < PATH_MESSAGES && performance.now() < deadline) {
    await sleep(20);
    if (sink.unique !== lastUnique) {
      lastUnique = sink.unique;
      lastProgress = performance.now();
    } else if (performance.now() - lastProgress > 15_000) break;
  }
  const reading = cpu.stop();
  const ms = (sink.lastAt || epochMs()) - started;
  return {
    round,
    variant: 'path',
    messages: PATH_MESSAGES,
    ms,
    perSec: sink.unique / (ms / 1000),
    confirmedPerSec: PATH_MESSAGES / (confirmedMs / 1000),
    latency: sink.latency(),
    lost: PATH_MESSAGES - sink.unique,
    duplicates: sink.duplicates,
    cpu: reading,
  };
}

async function main(): Promise<ScenarioOutcome> {
  const system = (await printSystem(URL)).line;
  brokerPid = await systemBrokerPid();
  redisServerPid = await redisPid();
  console.log(`Note: ${STAND_IN_NOTE}`);

  const prefix = runPrefix('persister');
  const stack: StackEnv = {
    prefix,
    amqpUrl: URL,
    mongoUrl: '',
    mongoDb: prefix.replace(/-/g, '_'),
    redisUrl: REDIS_URL,
  };
  const mongo = await startMongoProcess();
  mongoPid = mongo.pid;
  stack.mongoUrl = mongo.url;
  const client = await new MongoClient(mongo.url).connect();
  let declare: Router | undefined;
  let sinkRouter: Router | undefined;
  let writer: Router | undefined;
  let pathPersister: PersisterService | undefined;
  const levels: LevelResult[] = [];
  const path: PathResult[] = [];
  try {
    const store = createStore({ db: client.db(stack.mongoDb), slots: 1024 });
    await store.init();
    const users = Array.from({ length: USERS }, (_, i) => `bu${i}`);
    for (let i = 0; i < CHANNELS; i++) {
      const a = users[(2 * i) % USERS]!;
      const b = users[(2 * i + 1 + 2 * Math.floor(rand() * (USERS / 2 - 1))) % USERS]!;
      const id = ids.nextSync();
      await store.channels.create({ id, kind: 'dm', creatorId: a, recipients: [b] });
      channels.push({ id, members: [a, b] });
    }
    const partitionsPerChannel =
      channels.reduce((n, c) => n + new Set(c.members.map((m) => slotOf(m, 1024) % 16)).size, 0) / channels.length;

    // The topology (persist quorum queue with its arguments) and a gateway queue bound to every member's slot.
    declare = createRouter({ url: URL, prefix, connectionName: `${prefix}:declare`, persistMaxLength: PERSIST_BOUND });
    await declare.ready(30_000);
    const sink = new Sink();
    sinkRouter = createRouter({
      url: URL,
      prefix,
      serverId: 'sink',
      connectionName: `${prefix}:sink`,
      prefetch: 1000,
      persistMaxLength: PERSIST_BOUND,
    });
    await sinkRouter.ready(30_000);
    await sinkRouter.consume((env) => sink.onEnvelope(env.data));
    await Promise.all(users.map((u) => sinkRouter!.attach(u)));
    // Part (1) only counts deliveries (sink.deliveries); nothing is tracked per message.
    sink.track('untracked', 0);

    console.log(
      `\n(1) Little's law: in flight ${LEVELS.join(', ')}; batch = ceil(in-flight / ${BATCH_DIV}), flush after 5 ms; ` +
        `warm-up ${WARMUP_S} s, window ${WINDOW_S} s; ${CHANNELS} DM channels of ${USERS} users, ${CONTENT_BYTES}-byte contents`,
    );
    let estimate = 2000;
    for (const [i, level] of LEVELS.entries()) {
      const r = await runLevel(stack, sink, sinkRouter, level, estimate);
      levels.push(r);
      // By Little's law the rate can grow as fast as the writes in flight: pre-fill the next level for
      // that (capped by MAX_PREFILL), so that its queue does not run dry in the window.
      const growth = Math.max(3, (LEVELS[i + 1] ?? level) / level);
      estimate = Math.max(2000, r.storedPerSec * growth);
      console.log(
        `  in flight ${String(level).padStart(5)}  ${fmt(r.storedPerSec).padStart(7)} stored/s  loop p50 ${fmt(r.loopP50Ms)} ms ` +
          `p99 ${fmt(r.loopP99Ms)} ms mean ${fmt(r.loopMeanMs)} ms  λ×W ${fmt(r.littleL)}  busy ${fmt(r.busyPerSec)} s/s` +
          `  persister CPU ${pct(r.cpu.percent.persister)}${r.ranDry ? '  (QUEUE RAN DRY)' : ''}`,
      );
    }
    // What the levels left in the queue is not needed any more.
    {
      const conn = await amqp.connect(URL);
      conn.on('error', () => {});
      const ch = await conn.createChannel();
      await ch.purgeQueue(`${prefix}.persist`);
      await conn.close();
    }

    console.log(
      `\n(2) whole durable path vs broker ceiling: ${PATH_MESSAGES} messages per run, window ${WINDOW}, ${ROUNDS} round(s), interleaved`,
    );
    pathPersister = await startPersister(stack, { PERSIST_MAX_LENGTH: String(PERSIST_BOUND) });
    writer = createRouter({ url: URL, prefix, connectionName: `${prefix}:writer`, persistMaxLength: PERSIST_BOUND });
    await writer.ready(30_000);
    // Warm-up of both variants, not counted.
    await rawQuorumConfirm(
      URL,
      `${prefix}.raw-warm`,
      Array.from({ length: 5000 }, (_, i) => Buffer.from(JSON.stringify(makeWrite('w', i)))),
      WINDOW,
      {},
      120_000,
    );
    sink.track('warm', 5000);
    await Promise.all(Array.from({ length: 5000 }, (_, i) => writer!.durableWrite(makeWrite('warm', i))));
    await sleep(2000);
    for (let round = 1; round <= ROUNDS; round++) {
      await waitForQuiet(procs(pathPersister), 60_000);
      const bodies = Array.from({ length: PATH_MESSAGES }, (_, i) =>
        Buffer.from(JSON.stringify(makeWrite(`raw${round}`, i))),
      );
      const raw: RawConfirmResult = await rawQuorumConfirm(
        URL,
        `${prefix}.raw-r${round}`,
        bodies,
        WINDOW,
        procs(pathPersister),
        120_000,
      );
      if (raw.stored !== raw.messages)
        throw new BenchFailure(`raw round ${round}: ${raw.stored} of ${raw.messages} confirmed messages in the queue`);
      path.push({ round, variant: 'raw', ...raw });
      console.log(`  round ${round} raw   ${fmt(raw.perSec).padStart(7)} msg/s confirmed`);
      await waitForQuiet(procs(pathPersister), 60_000);
      const p = await runPath(writer, sink, pathPersister, round);
      path.push(p);
      console.log(
        `  round ${round} path  ${fmt(p.perSec).padStart(7)} msg/s stored+delivered (writes confirmed ${fmt(p.confirmedPerSec!)}/s)` +
          `  e2e p50 ${fmt(p.latency.p50Ms)} ms p99 ${fmt(p.latency.p99Ms)} ms  lost ${p.lost}`,
      );
      await sleep(1000);
    }

    // ---- report -------------------------------------------------------------------------------
    const levelTable = formatTable(
      [
        'in flight',
        'batch',
        'stored msg/s',
        'dispatched/s',
        'AMQP copies / write',
        'loop p50 ms',
        'loop p99 ms',
        'loop mean ms',
        'λ × W̄',
        'in-flight gauge',
        'busy s/s',
        'insert mean ms',
        'dispatch mean ms',
        'mean batch',
        'queue ran dry',
      ],
      levels.map((r) => [
        r.inFlight,
        r.batchSize,
        r.storedPerSec,
        r.dispatchedPerSec,
        r.amqpCopiesPerWrite,
        r.loopP50Ms,
        r.loopP99Ms,
        r.loopMeanMs,
        r.littleL,
        r.sampledInFlight,
        r.busyPerSec,
        r.insertMeanMs,
        r.dispatchMeanMs,
        r.meanBatch,
        r.ranDry ? 'YES' : 'no',
      ]),
    );
    const levelCpu = formatTable(
      [
        'in flight',
        'persister CPU',
        'stand-in CPU',
        'broker CPU',
        'redis CPU',
        'bench CPU (sink)',
        'other CPU',
        'persister µs/msg',
      ],
      levels.map((r) => [
        r.inFlight,
        pct(r.cpu.percent.persister),
        pct(r.cpu.percent.standIn),
        pct(r.cpu.percent.broker),
        pct(r.cpu.percent.redis),
        pct(r.cpu.percent.bench),
        pct(r.cpu.others),
        ((r.cpu.percent.persister ?? Number.NaN) * 10_000) / r.storedPerSec,
      ]),
    );
    const pathTable = formatTable(
      [
        'round',
        'variant',
        'messages',
        'seconds',
        'msg/s',
        'confirmed/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'lost',
        'dup copies',
        'bench CPU',
        'persister CPU',
        'stand-in CPU',
        'broker CPU',
        'redis CPU',
        'other CPU',
      ],
      path.map((r) => [
        r.round,
        r.variant === 'raw' ? 'raw confirm (ceiling)' : 'whole path',
        r.messages,
        r.ms / 1000,
        r.perSec,
        r.confirmedPerSec ?? r.perSec,
        r.latency.p50Ms,
        r.latency.p99Ms,
        r.latency.maxMs,
        r.lost,
        r.duplicates,
        pct(r.cpu.percent.bench),
        pct(r.cpu.percent.persister),
        pct(r.cpu.percent.standIn),
        pct(r.cpu.percent.broker),
        pct(r.cpu.percent.redis),
        pct(r.cpu.others),
      ]),
    );
    const rawMed = median(path.filter((r) => r.variant === 'raw').map((r) => r.perSec));
    const pathMed = median(path.filter((r) => r.variant === 'path').map((r) => r.perSec));
    const perRound = path
      .filter((r) => r.variant === 'path')
      .map((p) => p.perSec / path.find((r) => r.variant === 'raw' && r.round === p.round)!.perSec);
    const share = pathMed / rawMed;
    console.log(`\n${levelTable}\n\n${levelCpu}\n\n${pathTable}\n`);

    const best = levels.reduce((a, b) => (b.storedPerSec > a.storedPerSec ? b : a), levels[0]!);
    const notes = [
      STAND_IN_NOTE,
      `Little's law check: λ × W̄ (stored/s × mean loop time) against the in-flight limit — ${levels
        .map((r) => `${r.inFlight} → ${fmt(r.littleL)}`)
        .join(
          ', ',
        )}. The loop is measured from the delivery reaching the persister, so writes still in the broker's send buffer are not in it.`,
      `Best level: ${best.inFlight} in flight, ${fmt(best.storedPerSec)} stored/s; from 1 to ${best.inFlight} in flight throughput grew ${fmt(best.storedPerSec / levels[0]!.storedPerSec)}×.`,
      `Loop p50/p99 are interpolated inside the buckets of chat_persister_loop_seconds (bounds 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250 ms …); the mean is exact (sum/count).`,
      `Busy s/s = rate of chat_persister_busy_seconds_total (time inside batches, summed over concurrent batches: the seed's work-time density).`,
      `Dispatched/s = envelopes the sink gateway queue (bound to all ${USERS} users' slots) handed to its consumer; AMQP copies / write = what the broker delivered into it per write: a DM whose members' slots lie in two partitions is published twice (one publish per partition, ${fmt(partitionsPerChannel)} per DM here) and the router drops the second copy by id.`,
      `Whole path / raw ceiling: ${fmt(share * 100, 0)}% (ratio of medians; per round ${perRound.map((x) => `${fmt(x * 100, 0)}%`).join(', ')}). ` +
        `Path msg/s = messages stored and delivered into the gateway queue / (first publish → last delivery); confirmed/s = how fast router.durableWrite got its confirms meanwhile.`,
      otherLoadNote([...levels.map((r) => r.cpu), ...path.map((r) => r.cpu)]),
      `CPU columns are % of one core over the window (2 cores = 200%); 'bench' is this process (the sink consumer, and in the path runs also the writer).`,
    ];
    for (const n of notes) console.log(`- ${n}`);
    const dry = levels
      .filter((r) => r.ranDry)
      .map((r) => `in flight ${r.inFlight}: the queue ran dry during the window`);
    const failures = [
      ...levels
        .filter((r) => r.deadLettered > 0)
        .map((r) => `in flight ${r.inFlight}: the persister dead-lettered ${r.deadLettered} writes`),
      ...levels.filter((r) => !(r.storedPerSec > 0)).map((r) => `in flight ${r.inFlight}: nothing was stored`),
      ...dry,
      ...path.filter((r) => (r.lost ?? 0) > 0).map((r) => `path round ${r.round}: ${r.lost} messages never delivered`),
    ];
    for (const f of failures) console.error(`FAILED: ${f}`);
    // For the CI smoke test (bench/test/e2e/scenarios-quick.test.ts): the figures it checks, as JSON.
    console.log(
      `PERSISTER-SUMMARY ${JSON.stringify({
        levels: levels.map((r) => ({
          inFlight: r.inFlight,
          storedPerSec: r.storedPerSec,
          deadLettered: r.deadLettered,
          ranDry: r.ranDry,
        })),
        path: path.map((r) => ({ round: r.round, variant: r.variant, messages: r.messages, lost: r.lost ?? 0 })),
      })}`,
    );

    return {
      code: failures.length > 0 ? 1 : 0,
      results: {
        title: "Persister — the seed's Little's-law experiment, and the whole durable path vs the broker ceiling",
        description:
          'The real persister process drains a pre-filled persist queue with 1, 10, 100, 1,000 writes in flight (PERSISTER_PREFETCH), ' +
          'so it is the bottleneck; its own metrics over a fixed window give stored/s, loop latency and busy seconds per second. ' +
          'Then the whole durable path (router.durableWrite → stored → dispatched into a gateway queue) against raw amqplib ' +
          'confirms into a fresh quorum queue (window 1,000), interleaved in the same run. **The store is the in-memory MongoDB ' +
          'stand-in, not MongoDB: its speed is not MongoDB’s.**',
        system,
        params: {
          levels: LEVELS,
          batchDiv: BATCH_DIV,
          warmupS: WARMUP_S,
          windowS: WINDOW_S,
          pathMessages: PATH_MESSAGES,
          rounds: ROUNDS,
          window: WINDOW,
          users: USERS,
          channels: CHANNELS,
          contentBytes: CONTENT_BYTES,
          store: 'MongoDB stand-in (testkit, in memory)',
          quick,
        },
        tables: [
          { heading: '(1) Throughput and loop latency by writes in flight', markdown: levelTable },
          { heading: '(1) CPU per process over the window (% of one core)', markdown: levelCpu },
          { heading: '(2) Whole durable path vs raw quorum-queue confirms (W5)', markdown: pathTable },
        ],
        notes: [...notes, ...failures.map((f) => `FAILED: ${f}`)],
        data: { levels, path, partitionsPerChannel, share, perRound },
      },
    };
  } finally {
    await pathPersister?.stop('SIGTERM', 20_000).catch(() => {});
    await writer?.close().catch(() => {});
    await sinkRouter?.close().catch(() => {});
    await declare?.close().catch(() => {});
    await cleanupRun(
      URL,
      prefix,
      ['sink'],
      channels.map((c) => c.id),
    ).catch((err: unknown) => console.error(`cleanup of ${prefix} failed: ${(err as Error).message}`));
    await client.close().catch(() => {});
    await mongo.stop().catch(() => {});
  }
}

scenario.run(main);
