// The MongoDB stand-in's query times as the data grows (issue #8 item 5: no cliff when data grows).
// @chat/store against the stand-in (testkit, in a process of its own), the data set grown in steps
// (default 1× → 3× → 10×: 1,000 → 10,000 users, 100,000 → 1,000,000 messages); after each step the
// store's read paths are timed one call at a time: history (latest page and `before=` pages, in
// ordinary channels and in one hot group that grows with the data), RESUME `changesSince`,
// membership, isMember and listForUser. With the stand-in answering through its indexes these
// times stay flat; when it scanned, each grew with the collection.
import { readFileSync } from 'node:fs';
import { snowflakeAt } from '@chat/router';
import { createStore, type Store } from '@chat/store';
import { MongoClient } from 'mongodb';
import { defineScenario, type ScenarioOutcome } from './lib/scenario.js';
import { type GcPauses, STAND_IN_NOTE, startMongoProcess } from './lib/services.js';
import { type BenchChannel, GrowingDataset } from './lib/standin-dataset.js';
import { type LatencyHistogram, latencyHistogram, recordMs, seededRandom, sleep, summarize } from './lib/stats.js';
import { CpuMeter, type CpuReading, machineLine, otherLoadNote, waitForQuiet } from './lib/system.js';
import { fmt, formatTable, pct, ratio } from './lib/table.js';

const scenario = defineScenario({
  name: 'standin-queries',
  summary: '@chat/store read times on the MongoDB stand-in as the data grows (1×, 3×, 10×)',
  flags: {
    users: { type: 'int', default: 1000, min: 60, max: 100_000, help: 'users at 1× (a multiple of 10)' },
    factors: { type: 'ints', default: [1, 3, 10], min: 1, max: 1000, help: 'growth steps, increasing' },
    samples: { type: 'int', default: 300, min: 10, max: 100_000, help: 'timed calls per query kind and step' },
    'messages-per-user': { type: 'int', default: 100, min: 1, max: 10_000, help: 'messages per user at 1×' },
  },
  quick: { users: 100, samples: 50 },
  limitMinutes: 15,
});
const { users: BASE_USERS, factors: FACTORS, samples: SAMPLES, 'messages-per-user': PER_USER } = scenario.flags;
const DAY_MS = 86_400_000;
const RESUME_DAYS = 4;

if (BASE_USERS % 10 !== 0 || FACTORS.some((f, i) => i > 0 && f <= FACTORS[i - 1]!)) {
  scenario.usageError('--users must be a multiple of 10 and --factors increasing integers');
}

interface QueryKind {
  name: string;
  /** Runs one query; resolves with how many items it returned. */
  run(random: () => number): Promise<number>;
}

function pick<T>(xs: readonly T[], random: () => number): T {
  return xs[Math.floor(random() * xs.length)]!;
}

function queryKinds(store: Store, data: GrowingDataset, now: number): QueryKind[] {
  const since = String(snowflakeAt(now - RESUME_DAYS * DAY_MS));
  const page = async (ch: BenchChannel, random: () => number, before: boolean) => {
    const q = before && ch.sampleIds.length > 0 ? { before: pick(ch.sampleIds, random), limit: 50 } : { limit: 50 };
    return (await store.messages.history(ch.id, q)).length;
  };
  return [
    { name: 'history, latest page (DM/group)', run: (r) => page(pick(data.channels, r), r, false) },
    { name: 'history, before= page (DM/group)', run: (r) => page(pick(data.channels, r), r, true) },
    { name: 'history, latest page (hot group)', run: (r) => page(data.hot!, r, false) },
    { name: 'history, before= page (hot group)', run: (r) => page(data.hot!, r, true) },
    {
      name: `RESUME changesSince (a user's 3 channels, ${RESUME_DAYS} days)`,
      run: async (r) => {
        // Users past the first 50 are not in the hot group, whose traffic grows with the data.
        const user = data.users[50 + Math.floor(r() * (data.users.length - 50))]!;
        return (await store.messages.changesSince(data.userChannels.get(user)!, since, 1000)).events.length;
      },
    },
    {
      name: 'membership (DM/group, from MongoDB)',
      run: async (r) => (await store.channels.membership(pick(data.channels, r).id)).members.length,
    },
    {
      name: 'isMember',
      run: async (r) => {
        const ch = pick(data.channels, r);
        return (await store.channels.isMember(ch.id, pick(ch.members, r))) ? 1 : 0;
      },
    },
    { name: 'listForUser', run: async (r) => (await store.channels.listForUser(pick(data.users, r))).length },
  ];
}

interface KindResult {
  name: string;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  avgItems: number;
}

interface Stage {
  factor: number;
  users: number;
  channels: number;
  messages: number;
  hotMessages: number;
  loadS: number;
  settleS: number;
  standInRssMiB: number | undefined;
  cpu: CpuReading;
  /** The stand-in's GC pauses while the queries were timed. */
  gc: GcPauses;
  kinds: KindResult[];
}

function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits (at most 30 s) until the stand-in has used under 10% of a core for two seconds in a row:
 * the garbage of the bulk load is collected before the reads are timed, not during them.
 */
async function settle(pid: number): Promise<number> {
  const started = performance.now();
  let streak = 0;
  while (streak < 2 && performance.now() - started < 30_000) {
    const meter = new CpuMeter({ standIn: pid });
    await sleep(1000);
    const used = meter.stop().percent.standIn;
    streak = used !== undefined && used < 10 ? streak + 1 : 0;
  }
  return (performance.now() - started) / 1000;
}

async function measure(kinds: QueryKind[], seed: number): Promise<KindResult[]> {
  const random = seededRandom(seed);
  for (let i = 0; i < 20; i++) for (const k of kinds) await k.run(random);
  const hists: LatencyHistogram[] = kinds.map(() => latencyHistogram());
  const items = kinds.map(() => 0);
  // Interleaved, so that a disturbance on the shared machine lands on every kind alike.
  for (let i = 0; i < SAMPLES; i++) {
    for (let k = 0; k < kinds.length; k++) {
      const t0 = performance.now();
      items[k]! += await kinds[k]!.run(random);
      recordMs(hists[k]!, performance.now() - t0);
    }
  }
  return kinds.map((k, i) => ({ name: k.name, ...summarize(hists[i]!), avgItems: items[i]! / SAMPLES }));
}

async function main(): Promise<ScenarioOutcome> {
  const system = machineLine();
  console.log(system);
  const mongo = await startMongoProcess();
  const client = new MongoClient(mongo.url);
  const stages: Stage[] = [];
  try {
    await client.connect();
    const db = client.db('standin_queries');
    const store = createStore({ db });
    await store.init();
    const now = Date.now();
    const data = new GrowingDataset(store, db, {
      now,
      spanDays: 40,
      messagesPerUser: PER_USER,
      hotShare: 0.01,
      seed: 1,
    });
    const kinds = queryKinds(store, data, now);
    for (const factor of FACTORS) {
      const t0 = performance.now();
      await data.growTo(BASE_USERS * factor);
      const loadS = (performance.now() - t0) / 1000;
      const hotMessages = await db.collection('messages').countDocuments({ channel_id: data.hot!.id });
      const step = data.lastStep;
      console.log(
        `${factor}×: ${fmt(data.users.length)} users, ${fmt(data.channels.length + 1)} channels, ${fmt(data.messages)} messages ` +
          `(grown in ${fmt(loadS)} s: users ${fmt(step.usersS)} s, channels ${fmt(step.channelsS)} s, messages ${fmt(step.messagesS)} s); measuring`,
      );
      const settleS = await settle(mongo.pid);
      await waitForQuiet({ bench: process.pid, standIn: mongo.pid }, 30_000);
      await mongo.gcPauses();
      const meter = new CpuMeter({ bench: process.pid, standIn: mongo.pid });
      const results = await measure(kinds, factor);
      const cpu = meter.stop();
      const gc = await mongo.gcPauses();
      stages.push({
        factor,
        users: data.users.length,
        channels: data.channels.length + 1,
        messages: data.messages,
        hotMessages,
        loadS,
        settleS,
        standInRssMiB: rssMiB(mongo.pid),
        cpu,
        gc,
        kinds: results,
      });
      console.log(
        formatTable(
          ['query', 'p50 ms', 'p99 ms', 'max ms', 'items'],
          results.map((k) => [k.name, k.p50Ms, k.p99Ms, k.maxMs, k.avgItems]),
        ),
      );
    }
  } finally {
    await client.close().catch(() => {});
    await mongo.stop();
  }
  return report(system, stages);
}

function report(system: string, stages: Stage[]): ScenarioOutcome {
  const first = stages[0]!;
  const last = stages[stages.length - 1]!;
  const sizes = formatTable(
    [
      'step',
      'users',
      'channels',
      'messages',
      'hot group messages',
      'grown in s',
      'settled in s',
      'stand-in RSS MiB',
      'stand-in CPU',
      'stand-in GC pauses',
      'GC ms total',
      'longest GC ms',
      'other CPU',
    ],
    stages.map((s) => [
      `${s.factor}×`,
      s.users,
      s.channels,
      s.messages,
      s.hotMessages,
      s.loadS,
      s.settleS,
      s.standInRssMiB,
      pct(s.cpu.percent.standIn),
      s.gc.count,
      s.gc.totalMs,
      s.gc.maxMs,
      pct(s.cpu.others),
    ]),
  );
  const columns = ['query', ...stages.flatMap((s) => [`p50 ms ${s.factor}×`, `p99 ms ${s.factor}×`])];
  columns.push(`p50 ${last.factor}×/${first.factor}×`, `p99 ${last.factor}×/${first.factor}×`, 'items per call');
  const times = formatTable(
    columns,
    first.kinds.map((k, i) => [
      k.name,
      ...stages.flatMap((s) => [s.kinds[i]!.p50Ms, s.kinds[i]!.p99Ms]),
      ratio(last.kinds[i]!.p50Ms, k.p50Ms),
      ratio(last.kinds[i]!.p99Ms, k.p99Ms),
      stages.map((s) => fmt(s.kinds[i]!.avgItems, 1)).join(' → '),
    ]),
  );
  console.log(`\n${sizes}\n\n${times}`);
  const notes = [
    STAND_IN_NOTE,
    `After each step the stand-in is left to settle (its CPU under 10% of a core for 2 s: the bulk load's garbage collected), then each query kind is timed ${SAMPLES} times (interleaved with the others, one call at a time, after 20 warm-up rounds), from the @chat/store call to its result, through the driver and the stand-in's wire protocol; membership without the Redis cache, so it is a MongoDB read each time.`,
    'Per-channel sizes stay the same as the data grows (≈ 91 messages per DM/group channel over 40 days); the hot group takes 1% of all messages, so it grows with the data. Users are in 2 DMs and one 10-member group.',
    otherLoadNote(stages.map((s) => s.cpu)),
  ];
  return {
    code: 0,
    results: {
      title: 'MongoDB stand-in: store query times as the data grows',
      description:
        '@chat/store against the MongoDB stand-in of @chat/testkit (in a process of its own), the data set grown in steps; after each step history pages, RESUME changesSince and membership reads are timed. Flat rows mean the stand-in answers through its indexes instead of scanning.',
      system,
      params: {
        users: BASE_USERS,
        factors: FACTORS,
        samples: SAMPLES,
        messagesPerUser: PER_USER,
        resumeDays: RESUME_DAYS,
      },
      tables: [
        { heading: 'Data at each step', markdown: sizes },
        { heading: 'Query times (ms) per step', markdown: times },
      ],
      notes,
      data: stages,
    },
  };
}

scenario.run(main);
