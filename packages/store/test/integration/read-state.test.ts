import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bucketOf, makeSnowflake } from '@chat/protocol';
import { createStore, later, type NewMessage, toLong } from '@chat/store';
import { MongoClient } from 'mongodb';
import { openStore, type StoreFixture } from './fixture.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const ids = (worker: number, n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => makeSnowflake(T0 + from + i, worker, i % 4096).toString());
const msg = (channel: string, id: string, author = 'a1'): NewMessage => ({
  id,
  channel_id: channel,
  author: { id: author, username: author },
  content: `m ${id}`,
});
const msgs = (channel: string, list: readonly string[], author = 'a1') => list.map((id) => msg(channel, id, author));

describe('message counts and read states', () => {
  let fx: StoreFixture;
  before(async () => {
    fx = await openStore({ redis: false });
  });
  after(async () => fx.close());

  /** The channel's stored ordinals, sorted, and how many messages it holds. */
  async function ordinals(channel: string) {
    const docs = await fx.db.collection('messages').find({ channel_id: channel }).toArray();
    return { stored: docs.length, ns: docs.map((d) => d.n as number).sort((a, b) => a - b) };
  }
  const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  /** What a persister killed after storing but before raising leaves: messages with ordinals, no raise. */
  async function storeUncounted(channel: string, list: readonly string[], firstN: number, author = 'a1') {
    await fx.db.collection('messages').insertMany(
      list.map((id, i) => ({
        _id: toLong(id),
        channel_id: channel,
        bucket: bucketOf(id),
        author: { id: author, username: author },
        content: `m ${id}`,
        timestamp: new Date(T0),
        edited_timestamp: null,
        nonce: null,
        deleted: false,
        updated_id: toLong(id),
        n: firstN + i,
      })) as never[],
    );
  }

  it('appending the same messages again, in any overlap, stores and counts each once and keeps their ordinals', async () => {
    const { messages, counts } = fx.store;
    const all = ids(1, 30);
    const first = await messages.append(msgs('c-redeliver', all.slice(0, 20)));
    assert.deepEqual([...first.ordinals.values()], oneToN(20));
    const again = await messages.append(msgs('c-redeliver', all.slice(10, 30)));
    assert.equal(again.inserted, 10);
    assert.equal(again.duplicates, 10);
    for (const id of all.slice(10, 20))
      assert.equal(again.ordinals.get(id), first.ordinals.get(id), `${id} keeps its ordinal`);
    assert.deepEqual(
      all.slice(20).map((id) => again.ordinals.get(id)),
      Array.from({ length: 10 }, (_, i) => 21 + i),
    );
    assert.deepEqual((await counts.countsOf(['c-redeliver'])).get('c-redeliver'), {
      count: 30,
      last_message_id: all[29],
    });
    assert.deepEqual(await ordinals('c-redeliver'), { stored: 30, ns: oneToN(30) });
    assert.equal(await counts.ordinalOf('c-redeliver', all[4]!), 5);
    assert.equal(await counts.ordinalOf('other-channel', all[4]!), null, 'an ordinal belongs to its channel');
  });

  it('appenders racing on one channel give every message exactly one ordinal, 1..N without gaps', async () => {
    // Eight "persisters" (each its own store over the same database) append overlapping slices at once,
    // each message by two of them, in shuffled order.
    const stores = Array.from({ length: 8 }, () => createStore({ db: fx.db }));
    const all = ids(2, 200);
    const slices = Array.from({ length: 8 }, (_, k) => all.slice(k * 25, k * 25 + 50).reverse());
    const results = await Promise.all(slices.map((s, k) => stores[k]!.messages.append(msgs('c-race', s))));
    assert.deepEqual(await ordinals('c-race'), { stored: 200, ns: oneToN(200) });
    const byId = new Map(
      (await fx.db.collection('messages').find({ channel_id: 'c-race' }).toArray()).map((d) => [
        BigInt.asUintN(64, BigInt(String(d._id))).toString(),
        d.n as number,
      ]),
    );
    for (const r of results)
      for (const [id, n] of r.ordinals) assert.equal(n, byId.get(id), `${id}: the ordinal stored`);
    assert.equal(
      results.reduce((a, r) => a + r.inserted, 0),
      200,
      'each message inserted once',
    );
    assert.equal((await fx.store.counts.countsOf(['c-race'])).get('c-race')?.count, 200);
  });

  it('appends at once through one store take turns: one insert each, none refused by the other', async () => {
    // A persister runs two batches at once; sharing a channel, they must not offer the same ordinals.
    const monitored = await new MongoClient(fx.mongoUrl, {
      serverSelectionTimeoutMS: 5000,
      monitorCommands: true,
    }).connect();
    try {
      let inserts = 0;
      monitored.on('commandStarted', (e) => {
        if (e.commandName === 'insert' && e.command.insert === 'messages') inserts++;
      });
      const store = createStore({ db: monitored.db(fx.db.databaseName) });
      const all = ids(9, 120);
      const batches = [0, 1, 2, 3].map((k) => msgs('c-turns', all.slice(k * 30, k * 30 + 30)));
      const results = await Promise.all(batches.map((b) => store.messages.append(b)));
      assert.equal(inserts, 4, 'one insert per append: no ordinal refused');
      assert.deepEqual(
        results.map((r) => [...r.ordinals.values()]),
        [0, 1, 2, 3].map((k) => Array.from({ length: 30 }, (_, i) => k * 30 + i + 1)),
        'ordinals in call order',
      );
      assert.deepEqual(await ordinals('c-turns'), { stored: 120, ns: oneToN(120) });
      // A failed append does not stop the next one.
      await assert.rejects(store.messages.append([{ ...msg('c-turns', 'not-an-id') }]));
      const after = await store.messages.append(msgs('c-turns', ids(9, 1, 500)));
      assert.deepEqual([...after.ordinals.values()], [121]);
    } finally {
      await monitored.close();
    }
  });

  /** A store of its own over the fixture's database whose commands on `messages` and `channel_counts` are counted. */
  async function monitoredStore(options: { ordinalCacheChannels?: number } = {}) {
    const monitored = await new MongoClient(fx.mongoUrl, {
      serverSelectionTimeoutMS: 5000,
      monitorCommands: true,
    }).connect();
    const seen = { countReads: 0, inserts: 0 };
    monitored.on('commandStarted', (e) => {
      if (e.commandName === 'find' && e.command.find === 'channel_counts') seen.countReads++;
      if (e.commandName === 'insert' && e.command.insert === 'messages') seen.inserts++;
    });
    const store = createStore({ db: monitored.db(fx.db.databaseName), ...options });
    return { store, seen, close: () => monitored.close() };
  }

  it('a store numbers its next batch in channels it stored in from memory: no read of the cached counts', async () => {
    const m = await monitoredStore();
    const off = await monitoredStore({ ordinalCacheChannels: 0 });
    try {
      const all = ids(30, 40);
      await m.store.messages.append([...msgs('k-1', all.slice(0, 5)), ...msgs('k-2', all.slice(5, 10))]);
      assert.deepEqual(m.seen, { countReads: 1, inserts: 1 });
      const second = await m.store.messages.append([
        ...msgs('k-1', all.slice(10, 15)),
        ...msgs('k-2', all.slice(15, 20)),
      ]);
      assert.deepEqual(m.seen, { countReads: 1, inserts: 2 }, 'both channels known: no read');
      assert.deepEqual([...second.ordinals.values()], [6, 7, 8, 9, 10, 6, 7, 8, 9, 10]);
      // A channel it does not know yet is read, alone.
      await m.store.messages.append([...msgs('k-1', all.slice(20, 22)), ...msgs('k-3', all.slice(22, 24))]);
      assert.deepEqual(m.seen, { countReads: 2, inserts: 3 });
      for (const c of ['k-1', 'k-2'])
        assert.equal((await fx.store.counts.countsOf([c])).get(c)?.count, c === 'k-1' ? 12 : 10);
      // Switched off, every batch reads the counts.
      await off.store.messages.append(msgs('k-1', all.slice(24, 26)));
      await off.store.messages.append(msgs('k-1', all.slice(26, 28)));
      assert.deepEqual(off.seen, { countReads: 2, inserts: 2 });
      assert.deepEqual(await ordinals('k-1'), { stored: 16, ns: oneToN(16) });
    } finally {
      await m.close();
      await off.close();
    }
  });

  it('a store whose memory is behind (another stored since) is refused once, goes on from the real top and reads the counts from then on', async () => {
    const a = await monitoredStore();
    const b = createStore({ db: fx.db });
    try {
      const all = ids(31, 80);
      await a.store.messages.append([...msgs('s-1', all.slice(0, 10)), ...msgs('s-2', all.slice(10, 20))]);
      // Another persister stores in both channels: what `a` remembers (10 and 10) is now behind.
      await b.messages.append([...msgs('s-1', all.slice(20, 25)), ...msgs('s-2', all.slice(25, 30))]);
      const before = { ...a.seen };
      const got = await a.store.messages.append([...msgs('s-1', all.slice(30, 35)), ...msgs('s-2', all.slice(35, 40))]);
      assert.deepEqual(
        [...got.ordinals.values()].sort((x, y) => x - y),
        [16, 16, 17, 17, 18, 18, 19, 19, 20, 20],
      );
      // One refused insert (s-1 at 11) and one that stored everything: s-2's remembered top was re-read
      // with the counts, not refused in turn.
      assert.equal(a.seen.inserts - before.inserts, 2);
      for (const c of ['s-1', 's-2']) assert.deepEqual(await ordinals(c), { stored: 20, ns: oneToN(20) }, c);
      // Distrusted now: the next batch in known channels reads the counts first.
      const reads = a.seen.countReads;
      await a.store.messages.append(msgs('s-1', all.slice(40, 42)));
      assert.equal(a.seen.countReads, reads + 1);
      assert.deepEqual(await ordinals('s-1'), { stored: 22, ns: oneToN(22) });
    } finally {
      await a.close();
    }
  });

  it('a crash after storing but before the raise is repaired by the redelivery: ordinals stand, the count moves', async () => {
    const { messages, counts } = fx.store;
    const all = ids(3, 5);
    await messages.append(msgs('c-crash', all.slice(0, 3)));
    await storeUncounted('c-crash', all.slice(3), 4);
    assert.equal((await counts.countsOf(['c-crash'])).get('c-crash')?.count, 3);
    const redelivered = await messages.append(msgs('c-crash', all.slice(3)));
    assert.deepEqual(
      { inserted: redelivered.inserted, duplicates: redelivered.duplicates },
      { inserted: 0, duplicates: 2 },
    );
    assert.deepEqual([...redelivered.ordinals.values()], [4, 5]);
    assert.deepEqual((await counts.countsOf(['c-crash'])).get('c-crash'), { count: 5, last_message_id: all[4] });
    assert.deepEqual((await counts.countsFor('a1', ['c-crash'])).get('c-crash')?.own, { n: 5, last_read_id: all[4] });
  });

  it('a cached count behind the real top (a crash before the raise, then new messages) goes on from the real top', async () => {
    const { messages, counts } = fx.store;
    const all = ids(21, 8);
    await messages.append(msgs('m-lag', all.slice(0, 2)));
    await storeUncounted('m-lag', all.slice(2, 4), 3);
    // New messages, and a redelivered one in the middle of them.
    const got = await messages.append(msgs('m-lag', [all[4]!, all[3]!, all[5]!]));
    assert.deepEqual(
      [all[3], all[4], all[5]].map((id) => got.ordinals.get(id!)),
      [4, 5, 6],
    );
    assert.deepEqual(await ordinals('m-lag'), { stored: 6, ns: oneToN(6) });
    assert.deepEqual((await counts.countsOf(['m-lag'])).get('m-lag'), { count: 6, last_message_id: all[5] });
    // A cache far behind (lowered by hand): still no gap, no ordinal twice.
    await fx.db
      .collection('channel_counts')
      .updateOne({ _id: 'm-lag' as never }, { $set: { top: { n: 1, id: all[0] } } });
    const more = await messages.append(msgs('m-lag', all.slice(6)));
    assert.deepEqual([...more.ordinals.values()], [7, 8]);
    assert.deepEqual(await ordinals('m-lag'), { stored: 8, ns: oneToN(8) });
    assert.equal((await counts.countsOf(['m-lag'])).get('m-lag')?.count, 8);
  });

  it('batches over several channels racing, with redeliveries, leave 1..N per channel', async () => {
    const stores = Array.from({ length: 8 }, () => createStore({ db: fx.db }));
    const channels = ['m-a', 'm-b', 'm-c'];
    const all = new Map(channels.map((c, k) => [c, ids(10 + k, 120)]));
    const batches = Array.from({ length: 8 }, (_, k) =>
      channels.flatMap((c) => msgs(c, all.get(c)!.slice(k * 15, k * 15 + 30))),
    );
    await Promise.all(batches.map((b, k) => stores[k]!.messages.append(b)));
    for (const c of channels) {
      assert.deepEqual(await ordinals(c), { stored: 120, ns: oneToN(120) }, `${c}: 1..N, each message once`);
      assert.equal((await fx.store.counts.countsOf([c])).get(c)?.count, 120, `${c}: the cached count is the top`);
    }
    const fresh = ids(20, 3);
    const again = await fx.store.messages.append(msgs('m-a', [...all.get('m-a')!.slice(0, 5), ...fresh]));
    assert.deepEqual(
      fresh.map((id) => again.ordinals.get(id)),
      [121, 122, 123],
    );
    assert.equal((await fx.store.counts.countsOf(['m-a'])).get('m-a')?.count, 123);
  });

  it('an id already stored in another channel is not counted in this one', async () => {
    const { messages, counts } = fx.store;
    const [id, other] = ids(23, 2);
    await messages.append([msg('x-1', id!)]);
    const res = await messages.append([msg('x-2', id!), msg('x-2', other!)]);
    assert.equal(res.ordinals.has(id!), false);
    assert.equal(res.ordinals.get(other!), 1);
    assert.deepEqual((await counts.countsOf(['x-1', 'x-2'])).get('x-2'), { count: 1, last_message_id: other });
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

  it("sending moves the author's own position to their newest message, per channel, only forward", async () => {
    const { messages, counts } = fx.store;
    const m = ids(22, 6);
    await messages.append([
      msg('k1', m[0]!, 'ann'),
      msg('k1', m[1]!, 'bob'),
      msg('k2', m[2]!, 'ann'),
      msg('k1', m[3]!, 'ann'),
    ]);
    const k1 = await counts.countsFor('ann', ['k1', 'k2']);
    assert.deepEqual(k1.get('k1'), { count: 3, last_message_id: m[3], own: { n: 3, last_read_id: m[3] } });
    assert.deepEqual(k1.get('k2')?.own, { n: 1, last_read_id: m[2] });
    assert.deepEqual((await counts.countsFor('bob', ['k1'])).get('k1')?.own, { n: 2, last_read_id: m[1] });
    assert.equal((await counts.countsFor('cid', ['k1'])).get('k1')?.own, null, 'a member who never sent');
    // A redelivery of bob's older message moves nothing back.
    await messages.append([msg('k1', m[1]!, 'bob')]);
    assert.deepEqual((await counts.countsFor('bob', ['k1'])).get('k1')?.own, { n: 2, last_read_id: m[1] });
    // Racing raises (as from two persisters) settle on the highest.
    await Promise.all(
      [5, 9, 7].map((n) =>
        counts.raise(
          new Map([['k9', { top: { n, id: String(n) }, authors: new Map([['dan', { n, id: String(n) }]]) }]]),
        ),
      ),
    );
    assert.deepEqual((await counts.countsFor('dan', ['k9'])).get('k9'), {
      count: 9,
      last_message_id: '9',
      own: { n: 9, last_read_id: '9' },
    });
  });

  it('a reader position is the later of their ack and their own newest message; leaving forgets both', async () => {
    const { messages, counts, readStates } = fx.store;
    const m = ids(24, 8);
    await messages.append([...msgs('k3', m.slice(0, 4), 'eve'), ...msgs('k3', m.slice(4), 'fay')]);
    const position = async () =>
      later(await readStates.get('eve', 'k3'), (await counts.countsFor('eve', ['k3'])).get('k3')?.own);
    assert.deepEqual(await position(), { n: 4, last_read_id: m[3] }, 'her own newest message');
    await readStates.advance('eve', 'k3', 2, m[1]!);
    assert.deepEqual(await position(), { n: 4, last_read_id: m[3] }, 'an ack below her own message changes nothing');
    await readStates.advance('eve', 'k3', 6, m[5]!);
    assert.deepEqual(await position(), { n: 6, last_read_id: m[5] }, 'a later ack wins');
    await messages.append([msg('k3', ids(25, 1)[0]!, 'eve')]);
    assert.equal((await position())?.n, 9, 'then a later send wins');
    await Promise.all([readStates.forget('eve', 'k3'), counts.forgetAuthor('k3', 'eve')]);
    assert.equal(await position(), null, 'leaving forgets the ack and the own position');
    assert.deepEqual(
      (await counts.countsFor('fay', ['k3'])).get('k3')?.own,
      { n: 8, last_read_id: m[7] },
      'others keep theirs',
    );
  });

  it('author ids of any form get their own field', async () => {
    const { messages, counts } = fx.store;
    const [a, b] = ids(26, 2);
    await messages.append([msg('k4', a!, 'odd.user$1'), msg('k4', b!, '12345')]);
    assert.deepEqual((await counts.countsFor('odd.user$1', ['k4'])).get('k4')?.own, { n: 1, last_read_id: a });
    assert.deepEqual((await counts.countsFor('12345', ['k4'])).get('k4')?.own, { n: 2, last_read_id: b });
  });
});
