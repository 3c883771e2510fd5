// What counting stored messages costs the store (issue #8): 60-message batches over 2,000 DM channels
// (each message to a random channel, by one of its two members), stored and counted against the
// MongoDB stand-in (testkit, in a process of its own, so its CPU is measured apart), two ways side by
// side in one run, alternating in rounds:
// - old: the path before issue #8, kept only in this file — an unordered insert of the messages, then
//   one look-up of already-counted ids, one read of the cached counts, an ordered insert of one
//   `message_ordinals` document per message, a bulk raise of the cached counts and a bulk advance of
//   the authors' `read_states` (one statement per message each, for DMs);
// - new: @chat/store `messages.append` — each message stored with its ordinal by the same ordered
//   insert, after one read of the cached tops, then one upsert per channel raising the channel's top
//   and its authors' own positions.
// Per batch: the time from the first store call to the last one's answer; per message: the stand-in's
// and this process's CPU over the measured batches.
import { bucketOf } from '@chat/protocol';
import { createStore, messageIndexSpecs, type NewMessage, SEARCH_INDEX, toLong } from '@chat/store';
import { type Db, type Long, MongoClient } from 'mongodb';
import { DM_BATCH_FLAGS, DmBatches } from './lib/dm-batches.js';
import { defineScenario, type ScenarioOutcome } from './lib/scenario.js';
import { STAND_IN_NOTE, startMongoProcess } from './lib/services.js';
import { latencyHistogram, recordMs, seededRandom, summarize } from './lib/stats.js';
import { CpuMeter, machineLine, otherLoadNote, waitForQuiet } from './lib/system.js';
import { fmt, formatTable } from './lib/table.js';

const scenario = defineScenario({
  name: 'counting',
  summary: 'storing and counting 60-message batches over 2,000 DM channels: the old path vs the new one',
  flags: {
    ...DM_BATCH_FLAGS,
    batches: { type: 'int', default: 100, min: 5, max: 10_000, help: 'measured batches per path and round' },
    rounds: { type: 'int', default: 3, min: 1, max: 20, help: 'rounds (old then new in each)' },
  },
  quick: { batches: 20, rounds: 1 },
  limitMinutes: 10,
});
const { channels: CHANNELS, batch: BATCH, batches: BATCHES, rounds: ROUNDS } = scenario.flags;
const T0 = Date.parse('2026-12-01T00:00:00Z');

type Path = 'old' | 'new';
/** A document of the old path's collections (ids are Int64). */
type AnyDoc = { _id: Long; [field: string]: unknown };
type Store = (batch: NewMessage[]) => Promise<void>;

/** The old path's collections (before issue #8), with their indexes. */
async function oldPath(db: Db): Promise<Store> {
  const messages = db.collection<AnyDoc>('messages');
  const ordinals = db.collection<AnyDoc>('message_ordinals');
  const counts = db.collection<{ _id: string; count: number; last_message_id: string }>('channel_counts');
  const reads = db.collection('read_states');
  await messages.createIndexes(messageIndexSpecs().filter((i) => i.name !== 'channel_ordinal'));
  // The same indexes on messages as the new path has (the text index included), but the ordinal one.
  const { key: textKey, ...textOptions } = SEARCH_INDEX;
  await messages.createIndex({ ...textKey }, textOptions);
  await ordinals.createIndex({ channel_id: 1, n: 1 }, { unique: true, name: 'channel_ordinal' });
  await reads.createIndex({ user_id: 1, channel_id: 1 }, { unique: true, name: 'user_channel' });
  return async (batch) => {
    await messages.insertMany(
      batch.map((m) => ({
        _id: toLong(m.id),
        channel_id: m.channel_id,
        bucket: bucketOf(m.id),
        author: m.author,
        content: m.content,
        timestamp: new Date(T0),
        edited_timestamp: null,
        nonce: null,
        deleted: false,
        updated_id: toLong(m.id),
      })),
      { ordered: false },
    );
    // countMany's path without races or redeliveries (each of these was one store statement).
    await ordinals.find({ _id: { $in: batch.map((m) => toLong(m.id)) } }).toArray();
    const byChannel = new Map<string, NewMessage[]>();
    for (const m of batch) byChannel.set(m.channel_id, [...(byChannel.get(m.channel_id) ?? []), m]);
    const cached = new Map(
      (await counts.find({ _id: { $in: [...byChannel.keys()] } }).toArray()).map((d) => [d._id, d.count]),
    );
    const docs: { _id: ReturnType<typeof toLong>; channel_id: string; n: number }[] = [];
    const tops = new Map<string, { n: number; id: string }>();
    const moves = new Map<string, { userId: string; channelId: string; n: number; id: string }>();
    for (const [channelId, list] of byChannel) {
      const base = cached.get(channelId) ?? 0;
      for (const [i, m] of list.entries()) {
        docs.push({ _id: toLong(m.id), channel_id: channelId, n: base + 1 + i });
        tops.set(channelId, { n: base + 1 + i, id: m.id });
        moves.set(`${m.author.id} ${channelId}`, { userId: m.author.id, channelId, n: base + 1 + i, id: m.id });
      }
    }
    await ordinals.insertMany(docs, { ordered: true });
    await counts.bulkWrite(
      [...tops].map(([channelId, t]) => ({
        updateOne: {
          filter: { _id: channelId, count: { $lt: t.n } },
          update: { $set: { count: t.n, last_message_id: t.id } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
    await reads.bulkWrite(
      [...moves.values()].map((m) => ({
        updateOne: {
          filter: { user_id: m.userId, channel_id: m.channelId, n: { $lt: m.n } },
          update: { $set: { n: m.n, last_read_id: m.id } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  };
}

async function newPath(db: Db): Promise<Store> {
  const store = createStore({ db });
  await store.init();
  return async (batch) => {
    await store.messages.append(batch);
  };
}

interface Measured {
  path: Path;
  round: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  standInUsPerMessage: number;
  benchUsPerMessage: number;
  others: number | undefined;
}

async function main(): Promise<ScenarioOutcome> {
  const system = machineLine();
  console.log(system);
  const mongo = await startMongoProcess();
  const client = new MongoClient(mongo.url);
  const rows: Measured[] = [];
  const cpus: ReturnType<CpuMeter['stop']>[] = [];
  try {
    await client.connect();
    const paths: Record<Path, Store> = {
      old: await oldPath(client.db('counting_old')),
      new: await newPath(client.db('counting_new')),
    };
    const batches = new DmBatches({ channels: CHANNELS, size: BATCH, t0: T0, random: seededRandom(8) });
    // Warm-up: every channel gets its first messages (and its count document) on both paths.
    for (const path of ['old', 'new'] as const) {
      for (let k = 0; k < Math.ceil((2 * CHANNELS) / BATCH); k++) await paths[path](batches.next());
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const path of ['old', 'new'] as const) {
        const measured = Array.from({ length: BATCHES }, () => batches.next());
        await waitForQuiet({ bench: process.pid, standIn: mongo.pid }, 10_000);
        const hist = latencyHistogram();
        let totalMs = 0;
        const meter = new CpuMeter({ bench: process.pid, standIn: mongo.pid });
        for (const b of measured) {
          const t0 = performance.now();
          await paths[path](b);
          const ms = performance.now() - t0;
          totalMs += ms;
          recordMs(hist, ms);
        }
        const cpu = meter.stop();
        cpus.push(cpu);
        const perMessageUs = (pct: number | undefined) => (((pct ?? 0) / 100) * cpu.wallMs * 1000) / (BATCHES * BATCH);
        const s = summarize(hist);
        const row: Measured = {
          path,
          round,
          p50Ms: s.p50Ms,
          p99Ms: s.p99Ms,
          maxMs: s.maxMs,
          meanMs: totalMs / BATCHES,
          standInUsPerMessage: perMessageUs(cpu.percent.standIn),
          benchUsPerMessage: perMessageUs(cpu.percent.bench),
          others: cpu.others,
        };
        rows.push(row);
        console.log(
          `round ${round} ${path}: mean ${fmt(row.meanMs)} ms/batch, p50 ${fmt(row.p50Ms)}, p99 ${fmt(row.p99Ms)}; ` +
            `stand-in ${fmt(row.standInUsPerMessage)} µs/message, bench ${fmt(row.benchUsPerMessage)} µs/message`,
        );
      }
    }
  } finally {
    await client.close().catch(() => {});
    await mongo.stop();
  }
  const table = formatTable(
    [
      'round',
      'path',
      'mean ms/batch',
      'p50 ms',
      'p99 ms',
      'max ms',
      'stand-in CPU µs/message',
      'bench CPU µs/message',
      'other CPU %',
    ],
    rows.map((r) => [
      r.round,
      r.path,
      r.meanMs,
      r.p50Ms,
      r.p99Ms,
      r.maxMs,
      r.standInUsPerMessage,
      r.benchUsPerMessage,
      r.others === undefined ? '?' : Math.round(r.others),
    ]),
  );
  const mean = (path: Path, f: (r: Measured) => number) => {
    const list = rows.filter((r) => r.path === path);
    return list.reduce((a, r) => a + f(r), 0) / list.length;
  };
  const summary = formatTable(
    ['path', 'mean ms/batch', 'stand-in CPU µs/message', 'bench CPU µs/message'],
    (['old', 'new'] as const).map((p) => [
      p,
      mean(p, (r) => r.meanMs),
      mean(p, (r) => r.standInUsPerMessage),
      mean(p, (r) => r.benchUsPerMessage),
    ]),
  );
  console.log(`\n${table}\n\n${summary}`);
  return {
    code: 0,
    results: {
      title: 'Counting stored messages: the old path vs the new one (issue #8)',
      description:
        'Batches of messages over DM channels stored and counted against the MongoDB stand-in (in a process of its own): the path before issue #8 (a message_ordinals document per message, the cached count, the author read_states entry) against @chat/store messages.append (the ordinal in the message document, one count upsert per channel). bench/counting.ts says what each path does.',
      system,
      params: { channels: CHANNELS, batch: BATCH, batches: BATCHES, rounds: ROUNDS },
      tables: [
        { heading: 'Per round', markdown: table },
        { heading: 'Mean over the rounds', markdown: summary },
      ],
      notes: [
        STAND_IN_NOTE,
        `Each round measures ${BATCHES} batches of ${BATCH} messages per path, one batch at a time, after a warm-up that gave every channel its first messages on both paths; the paths alternate in each round. "bench CPU" is this process: the driver and the store code (the old path's counting code lives in the benchmark file).`,
        otherLoadNote(cpus),
      ],
      data: rows,
    },
  };
}

scenario.run(main);
