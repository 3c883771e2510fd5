import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BUCKET_MS, bucketOf, makeSnowflake } from '@chat/protocol';
import { createStore, type Message, type NewMessage } from '@chat/store';
import { openStore, type StoreFixture } from './fixture.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');

// Each test uses its own worker id so that ids never collide across tests sharing the database.
let worker = 0;
function msg(ts: number, seq: number, channel = 'c1', content = `m${seq}`): NewMessage {
  return {
    id: makeSnowflake(ts, worker, seq % 4096).toString(),
    channel_id: channel,
    author: { id: 'u1', username: 'one' },
    content,
    nonce: `n${seq}`,
  };
}

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('messages', () => {
  let fx: StoreFixture;
  before(async () => {
    fx = await openStore({ redis: false });
  });
  after(async () => fx.close());

  it('appending the same messages twice stores each once and counts the repeats as duplicates', async () => {
    worker = 1;
    const batch = Array.from({ length: 20 }, (_, i) => msg(T0 + i, i, 'dup'));
    const first = await fx.store.messages.append(batch);
    assert.deepEqual({ inserted: first.inserted, duplicates: first.duplicates }, { inserted: 20, duplicates: 0 });
    const again = [...batch.slice(0, 10), msg(T0 + 100, 100, 'dup')];
    const second = await fx.store.messages.append(again);
    assert.deepEqual({ inserted: second.inserted, duplicates: second.duplicates }, { inserted: 1, duplicates: 10 });
    assert.deepEqual(
      again.map((m) => second.ordinals.get(m.id)),
      [...Array.from({ length: 10 }, (_, i) => i + 1), 21],
      'a repeat keeps its ordinal, a new one takes the next',
    );
    assert.equal(await fx.db.collection('messages').countDocuments({ channel_id: 'dup' }), 21);
    const doc = await fx.db.collection('messages').findOne({ channel_id: 'dup', nonce: 'n3' });
    assert.equal(doc?.bucket, bucketOf(batch[3]!.id));
    assert.equal(typeof doc?._id, 'object', 'stored as Int64, not a string');
  });

  it('edits and deletes applied out of order or twice end in the same state as in order and once', async () => {
    worker = 2;
    const random = rng(42);
    for (let round = 0; round < 25; round++) {
      const channel = `ooo${round}`;
      const base = msg(T0 + round * 1000, round, channel, 'original');
      await fx.store.messages.append([base]);
      const edits = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, i) => ({
        kind: 'edit' as const,
        event_id: makeSnowflake(T0 + round * 1000 + 10 + i, 9, 0).toString(),
        content: `edit ${i}`,
      }));
      const withDelete = random() < 0.5;
      const events: Array<{ kind: 'edit' | 'delete'; event_id: string; content?: string }> = [...edits];
      if (withDelete) events.push({ kind: 'delete', event_id: makeSnowflake(T0 + round * 1000 + 50, 9, 0).toString() });

      const apply = async (channelId: string, id: string, list: typeof events) => {
        for (const e of list) {
          if (e.kind === 'edit') {
            await fx.store.messages.applyEdit({
              message_id: id,
              channel_id: channelId,
              author_id: 'u1',
              event_id: e.event_id,
              content: e.content!,
            });
          } else {
            await fx.store.messages.applyDelete({
              message_id: id,
              channel_id: channelId,
              author_id: 'u1',
              event_id: e.event_id,
            });
          }
        }
      };
      // Reference: in order, once, on a copy of the message in another channel.
      const refChannel = `${channel}ref`;
      const refId = (BigInt(base.id) + 1n).toString();
      await fx.store.messages.append([{ ...base, id: refId, channel_id: refChannel }]);
      await apply(refChannel, refId, events);
      // Shuffled, with repeats.
      const shuffled = [...events, ...events.filter(() => random() < 0.5)];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      await apply(channel, base.id, shuffled);

      const strip = (d: Record<string, unknown> | null) => {
        assert.ok(d, 'the message exists');
        const { _id, channel_id: _c, ...rest } = d;
        return rest;
      };
      const got = strip(await fx.db.collection('messages').findOne({ channel_id: channel }));
      const want = strip(await fx.db.collection('messages').findOne({ channel_id: refChannel }));
      assert.deepEqual(got, want, `round ${round}: ${JSON.stringify(shuffled)}`);
    }
  });

  it('an edit by someone other than the author, or of a deleted message, changes nothing', async () => {
    worker = 3;
    const m = msg(T0 + 5000, 5000, 'authz', 'mine');
    await fx.store.messages.append([m]);
    const ev = (n: number) => makeSnowflake(T0 + 6000 + n, 1, 0).toString();
    assert.equal(
      await fx.store.messages.applyEdit({
        message_id: m.id,
        channel_id: 'authz',
        author_id: 'mallory',
        event_id: ev(1),
        content: 'x',
      }),
      'ignored',
    );
    assert.equal(
      await fx.store.messages.applyEdit({
        message_id: m.id,
        channel_id: 'other',
        author_id: 'u1',
        event_id: ev(2),
        content: 'x',
      }),
      'ignored',
    );
    assert.equal(
      await fx.store.messages.applyDelete({ message_id: m.id, channel_id: 'authz', author_id: 'u1', event_id: ev(3) }),
      'applied',
    );
    assert.equal(
      await fx.store.messages.applyEdit({
        message_id: m.id,
        channel_id: 'authz',
        author_id: 'u1',
        event_id: ev(4),
        content: 'back',
      }),
      'ignored',
    );
    assert.equal(await fx.store.messages.get('authz', m.id), null, 'deleted messages are not returned');
  });

  it('history across three buckets matches a reference for before, after and limit', async () => {
    worker = 4;
    const channel = 'hist';
    // Three non-adjacent buckets with empty buckets between them.
    const bucketStarts = [T0, T0 + 3 * BUCKET_MS, T0 + 7 * BUCKET_MS];
    const all: NewMessage[] = [];
    let seq = 0;
    for (const start of bucketStarts) {
      for (let i = 0; i < 40; i++) all.push(msg(start + i * 60_000, seq++, channel));
    }
    await fx.store.messages.append(all);
    assert.equal(new Set(all.map((m) => bucketOf(m.id))).size, 3);
    const deleted = new Set<string>();
    for (const m of all.filter((_, i) => i % 7 === 3)) {
      await fx.store.messages.applyDelete({
        message_id: m.id,
        channel_id: channel,
        author_id: 'u1',
        event_id: (BigInt(m.id) + 1n).toString(),
      });
      deleted.add(m.id);
    }
    const live = all.filter((m) => !deleted.has(m.id)).map((m) => BigInt(m.id));
    const desc = [...live].sort((a, b) => (a < b ? 1 : -1));
    const ref = (q: { before?: bigint; after?: bigint; limit: number }) => {
      let xs = desc.filter(
        (id) => (q.before === undefined || id < q.before) && (q.after === undefined || id > q.after),
      );
      if (q.after !== undefined && q.before === undefined) xs = xs.slice(-q.limit);
      else xs = xs.slice(0, q.limit);
      return xs.map(String);
    };
    const random = rng(7);
    const ids = all.map((m) => BigInt(m.id));
    const pick = () => ids[Math.floor(random() * ids.length)]! + (random() < 0.5 ? 0n : 1n);
    const queries: Array<{ before?: bigint; after?: bigint; limit: number }> = [
      { limit: 50 },
      { limit: 100 },
      { limit: 1 },
      { before: ids[0]!, limit: 10 },
      { after: ids[ids.length - 1]!, limit: 10 },
      { before: BigInt(makeSnowflake(T0 + 20 * BUCKET_MS, 0, 0)), limit: 100 },
    ];
    for (let i = 0; i < 40; i++) {
      const limit = 1 + Math.floor(random() * 100);
      const r = random();
      if (r < 0.4) queries.push({ before: pick(), limit });
      else if (r < 0.8) queries.push({ after: pick(), limit });
      else {
        const [a, b] = [pick(), pick()].sort((x, y) => (x < y ? -1 : 1));
        queries.push({ after: a, before: b, limit });
      }
    }
    for (const q of queries) {
      const got: Message[] = await fx.store.messages.history(channel, {
        before: q.before?.toString(),
        after: q.after?.toString(),
        limit: q.limit,
      });
      assert.deepEqual(
        got.map((m) => m.id),
        ref(q),
        `query ${JSON.stringify(q, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`,
      );
    }
    const one = (await fx.store.messages.history(channel, { limit: 1 }))[0]!;
    assert.equal(one.channel_id, channel);
    assert.equal(one.type, 0);
    assert.match(one.timestamp, /^\d{4}-\d\d-\d\dT/);
  });

  it('changes since an id list creates, edits and deletes in event order, capped with truncated', async () => {
    worker = 5;
    const ch = ['chg1', 'chg2'];
    const old = msg(T0 + 10_000, 1, 'chg1', 'old');
    const old2 = msg(T0 + 10_001, 2, 'chg2', 'old2');
    await fx.store.messages.append([old, old2]);
    const since = makeSnowflake(T0 + 20_000, 0, 0).toString();
    const fresh = Array.from({ length: 5 }, (_, i) => msg(T0 + 30_000 + i, 10 + i, ch[i % 2]));
    await fx.store.messages.append(fresh);
    const editId = makeSnowflake(T0 + 40_000, 3, 0).toString();
    await fx.store.messages.applyEdit({
      message_id: old.id,
      channel_id: 'chg1',
      author_id: 'u1',
      event_id: editId,
      content: 'edited',
    });
    const delId = makeSnowflake(T0 + 41_000, 3, 0).toString();
    await fx.store.messages.applyDelete({ message_id: old2.id, channel_id: 'chg2', author_id: 'u1', event_id: delId });
    // A message created after `since` and deleted since is replayed as its delete only.
    await fx.store.messages.applyDelete({
      message_id: fresh[4]!.id,
      channel_id: fresh[4]!.channel_id,
      author_id: 'u1',
      event_id: makeSnowflake(T0 + 42_000, 3, 0).toString(),
    });

    const { events, truncated } = await fx.store.messages.changesSince(ch, since, 1000);
    assert.equal(truncated, false);
    assert.deepEqual(
      events.map((e) => [e.event, e.event_id]),
      [
        ...fresh.slice(0, 4).map((m) => ['MESSAGE_CREATE', m.id]),
        ['MESSAGE_UPDATE', editId],
        ['MESSAGE_DELETE', delId],
        ['MESSAGE_DELETE', makeSnowflake(T0 + 42_000, 3, 0).toString()],
      ],
    );
    assert.equal((events[4]!.data as Message).content, 'edited');
    const capped = await fx.store.messages.changesSince(ch, since, 3);
    assert.equal(capped.truncated, true);
    assert.equal(capped.events.length, 3);
    assert.deepEqual(
      (await fx.store.messages.changesSince(['chg1'], since, 10)).events.map((e) => e.channel_id),
      ['chg1', 'chg1', 'chg1', 'chg1'],
    );
  });
  it('a new message is in neither partial index; edits put it in the changes index; older indexes are replaced', async () => {
    worker = 6;
    const col = fx.db.collection('messages');
    const plain = msg(T0 + 50_000, 1, 'partial');
    await fx.store.messages.append([plain]);
    const stored = await col.findOne({ channel_id: 'partial' });
    assert.ok(stored);
    assert.equal('updated_id' in stored, false, 'an unchanged message holds no updated_id');
    assert.equal('reply_to' in stored, false);
    // An edit whose event is not newer than the message itself is ignored, as when updated_id held the id.
    const edit = (eventId: string) =>
      fx.store.messages.applyEdit({
        message_id: plain.id,
        channel_id: 'partial',
        author_id: 'u1',
        event_id: eventId,
        content: 'changed',
      });
    assert.equal(await edit(makeSnowflake(T0 + 49_000, 1, 0).toString()), 'ignored');
    assert.equal(await edit(plain.id), 'ignored');
    const editId = makeSnowflake(T0 + 51_000, 1, 0).toString();
    assert.equal(await edit(editId), 'applied');
    assert.equal(await edit(editId), 'ignored', 'a repeated edit changes nothing');
    const { events } = await fx.store.messages.changesSince(['partial'], plain.id, 10);
    assert.deepEqual(
      events.map((e) => [e.event, e.event_id]),
      [['MESSAGE_UPDATE', editId]],
    );

    // A database whose messages collection carries the full indexes of earlier versions.
    const old = fx.client.db(`${fx.db.databaseName}_old`);
    try {
      await old.collection('messages').createIndexes([
        { key: { channel_id: 1, updated_id: 1 }, name: 'channel_updated' },
        { key: { channel_id: 1, reply_to: 1, _id: -1 }, name: 'channel_reply_to_id' },
      ]);
      await createStore({ db: old }).init();
      const indexes = await old.collection('messages').listIndexes().toArray();
      const names = indexes.map((i) => i.name);
      assert.ok(!names.includes('channel_updated') && !names.includes('channel_reply_to_id'), names.join());
      const changes = indexes.find((i) => i.name === 'channel_changes');
      assert.deepEqual(changes?.partialFilterExpression, { updated_id: { $exists: true } });
      const replies = indexes.find((i) => i.name === 'channel_replies');
      assert.deepEqual(replies?.partialFilterExpression, { reply_to: { $exists: true } });
      // A second start (or another process starting at the same time) finds nothing left to replace.
      await createStore({ db: old }).init();
    } finally {
      await old.dropDatabase();
    }
  });
});
