import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeSnowflake } from '@chat/protocol';
import { toLong } from '@chat/store';
import { openStore, type StoreFixture } from './fixture.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const ids = (worker: number, n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => makeSnowflake(T0 + from + i, worker, i % 4096).toString());

describe('message counts and read states', () => {
  let fx: StoreFixture;
  before(async () => {
    fx = await openStore({ redis: false });
  });
  after(async () => fx.close());

  it('counting the same messages again, in any overlap, counts each once and keeps their ordinals', async () => {
    const { counts } = fx.store;
    const all = ids(1, 30);
    const first = await counts.count('c-redeliver', all.slice(0, 20));
    assert.deepEqual(
      [...first.values()],
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const again = await counts.count('c-redeliver', all.slice(10, 30));
    for (const id of all.slice(10, 20)) assert.equal(again.get(id), first.get(id), `${id} keeps its ordinal`);
    assert.deepEqual(
      all.slice(20).map((id) => again.get(id)),
      Array.from({ length: 10 }, (_, i) => 21 + i),
    );
    const c = (await counts.countsOf(['c-redeliver'])).get('c-redeliver');
    assert.deepEqual(c, { count: 30, last_message_id: all[29] });
    assert.equal(await counts.ordinalOf('c-redeliver', all[4]!), 5);
    assert.equal(await counts.ordinalOf('other-channel', all[4]!), null, 'an ordinal belongs to its channel');
  });

  it('counters racing on one channel give every message exactly one ordinal, 1..N without gaps', async () => {
    const { counts } = fx.store;
    const all = ids(2, 200);
    // Eight "persisters" count overlapping slices at once (each message counted by two of them).
    const slices = Array.from({ length: 8 }, (_, k) => all.slice(k * 25, k * 25 + 50));
    await Promise.all(slices.map((s) => counts.count('c-race', s)));
    const docs = await fx.db.collection('message_ordinals').find({ channel_id: 'c-race' }).toArray();
    assert.equal(docs.length, 200);
    assert.deepEqual(
      docs.map((d) => d.n as number).sort((a, b) => a - b),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    assert.equal((await counts.countsOf(['c-race'])).get('c-race')?.count, 200);
  });

  it('a crash after ordinals were given but before the count moved is repaired by counting again', async () => {
    const { counts } = fx.store;
    const all = ids(3, 5);
    await counts.count('c-crash', all.slice(0, 3));
    // What a persister killed between its two steps leaves: ordinals 4 and 5 taken, the count still 3.
    await fx.db.collection('message_ordinals').insertMany([
      { _id: toLong(all[3]!), channel_id: 'c-crash', n: 4 },
      { _id: toLong(all[4]!), channel_id: 'c-crash', n: 5 },
    ] as never[]);
    assert.equal((await counts.countsOf(['c-crash'])).get('c-crash')?.count, 3);
    const redelivered = await counts.count('c-crash', all.slice(3));
    assert.deepEqual([...redelivered.values()], [4, 5]);
    assert.deepEqual((await counts.countsOf(['c-crash'])).get('c-crash'), { count: 5, last_message_id: all[4] });
  });

  it('a read position only moves forward, and racing advances settle on the highest', async () => {
    const { readStates } = fx.store;
    const m = ids(4, 40);
    assert.equal(await readStates.advance('u1', 'c-read', 10, m[9]!), true);
    assert.equal(await readStates.advance('u1', 'c-read', 4, m[3]!), false, 'an older position is a no-op');
    assert.equal(await readStates.advance('u1', 'c-read', 10, m[9]!), false, 'a repeat is a no-op');
    assert.deepEqual(await readStates.get('u1', 'c-read'), { n: 10, last_read_id: m[9] });
    const results = await Promise.all(
      [17, 33, 12, 40, 25, 39].map((n) => readStates.advance('u2', 'c-race-read', n, m[n - 1]!)),
    );
    assert.ok(results.includes(true));
    assert.deepEqual(await readStates.get('u2', 'c-race-read'), { n: 40, last_read_id: m[39] });
    const docs = await fx.db.collection('read_states').countDocuments({ user_id: 'u2' });
    assert.equal(docs, 1, 'one document per (user, channel)');
    await readStates.forget('u2', 'c-race-read');
    assert.equal(await readStates.get('u2', 'c-race-read'), null);
  });

  it('countMany over several channels: redeliveries keep their ordinals, racing batches leave 1..N per channel', async () => {
    const { counts } = fx.store;
    const channels = ['m-a', 'm-b', 'm-c'];
    const all = new Map(channels.map((c, k) => [c, ids(10 + k, 120)]));
    // Eight "persisters" count overlapping batches that span every channel, at once.
    const batches = Array.from(
      { length: 8 },
      (_, k) => new Map(channels.map((c) => [c, all.get(c)!.slice(k * 15, k * 15 + 30)] as const)),
    );
    const results = await Promise.all(batches.map((b) => counts.countMany(b)));
    for (const c of channels) {
      const docs = await fx.db.collection('message_ordinals').find({ channel_id: c }).toArray();
      assert.equal(docs.length, 120, `${c}: every message counted once`);
      assert.deepEqual(
        docs.map((d) => d.n as number).sort((a, b) => a - b),
        Array.from({ length: 120 }, (_, i) => i + 1),
        `${c}: ordinals 1..N without gaps`,
      );
      const byId = new Map(docs.map((d) => [BigInt.asUintN(64, BigInt(String(d._id))).toString(), d.n as number]));
      for (const r of results) for (const id of all.get(c)!) if (r.has(id)) assert.equal(r.get(id), byId.get(id));
      assert.equal((await counts.countsOf([c])).get(c)?.count, 120, `${c}: the cached count is the top`);
    }
    // A redelivered batch mixing counted and new ids: old ones keep theirs, new ones go on from the top.
    const fresh = ids(20, 3);
    const again = await counts.countMany(new Map([['m-a', [...all.get('m-a')!.slice(0, 5), ...fresh]]]));
    assert.deepEqual(
      fresh.map((id) => again.get(id)),
      [121, 122, 123],
    );
    assert.equal((await counts.countsOf(['m-a'])).get('m-a')?.count, 123);
  });

  it('countMany with a cached count behind the top (a crash before the raise) goes on from the real top', async () => {
    const { counts } = fx.store;
    const all = ids(21, 6);
    await counts.countMany(new Map([['m-lag', all.slice(0, 2)]]));
    // Ordinals 3 and 4 were given, the count stayed at 2.
    await fx.db.collection('message_ordinals').insertMany([
      { _id: toLong(all[2]!), channel_id: 'm-lag', n: 3 },
      { _id: toLong(all[3]!), channel_id: 'm-lag', n: 4 },
    ] as never[]);
    const got = await counts.countMany(new Map([['m-lag', all.slice(4)]]));
    assert.deepEqual([...got.values()], [5, 6]);
    assert.deepEqual((await counts.countsOf(['m-lag'])).get('m-lag'), { count: 6, last_message_id: all[5] });
  });

  it('advanceMany moves each position forward only, and racing calls settle on the highest', async () => {
    const { readStates } = fx.store;
    const m = ids(22, 50);
    const move = (userId: string, channelId: string, n: number) => ({ userId, channelId, n, messageId: m[n - 1]! });
    await readStates.advanceMany([move('v1', 'k1', 10), move('v1', 'k2', 3), move('v2', 'k1', 7)]);
    await readStates.advanceMany([move('v1', 'k1', 4), move('v1', 'k2', 9)]);
    assert.deepEqual(await readStates.get('v1', 'k1'), { n: 10, last_read_id: m[9] }, 'an older position is a no-op');
    assert.deepEqual(await readStates.get('v1', 'k2'), { n: 9, last_read_id: m[8] });
    await Promise.all(
      [12, 44, 31, 50, 19].map((n) => readStates.advanceMany([move('v3', 'k1', n), move('v2', 'k1', n)])),
    );
    assert.deepEqual(await readStates.get('v3', 'k1'), { n: 50, last_read_id: m[49] });
    assert.deepEqual(await readStates.get('v2', 'k1'), { n: 50, last_read_id: m[49] });
    assert.equal(await fx.db.collection('read_states').countDocuments({ user_id: 'v3' }), 1);
  });
});
