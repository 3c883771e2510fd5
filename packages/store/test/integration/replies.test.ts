// store.replies against MongoDB (the stand-in unless MONGO_URL is set): references resolved at read time in
// the reply's channel only, the replies page, and reply_count exact under concurrent recounts from two
// connections and under a parent stored after its replies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeSnowflake } from '@chat/protocol';
import { createStore, type NewMessage, Replies, type Store } from '@chat/store';
import { MongoClient } from 'mongodb';
import { openStore, type StoreFixture } from './fixture.js';

const T0 = Date.parse('2026-05-01T00:00:00Z');
let seq = 0;
const id = (worker: number) => makeSnowflake(T0 + seq, worker, seq++ % 4096).toString();
const message = (worker: number, channel: string, content: string, reply_to?: string): NewMessage => ({
  id: id(worker),
  channel_id: channel,
  author: { id: 'u1', username: 'one' },
  content,
  ...(reply_to ? { reply_to } : {}),
});

describe('replies', () => {
  let fx: StoreFixture;
  let other: { client: MongoClient; store: Store };
  before(async () => {
    fx = await openStore({ redis: false });
    // A second connection: another persister process recounting the same parents.
    const client = await new MongoClient(fx.client.options.hosts.map((h) => `mongodb://${h}`)[0]!, {
      directConnection: true,
    }).connect();
    other = { client, store: createStore({ db: client.db(fx.db.databaseName) }) };
  });
  after(async () => {
    await other?.client.close();
    await fx?.close();
  });

  it('a reply reads its parent now, in its own channel only; the page is newest first and leaves deleted replies out', async () => {
    const parent = message(1, 'a', 'x'.repeat(130));
    const elsewhere = message(1, 'b', 'secret');
    await fx.store.messages.append([parent, elsewhere]);
    const replies = [1, 2, 3].map((i) => message(1, 'a', `r${i}`, parent.id));
    const stray = message(1, 'a', 'stray', elsewhere.id);
    await fx.store.messages.append([...replies, stray]);
    const page = await fx.store.replies.page('a', parent.id, { limit: 2 });
    assert.deepEqual(
      page.map((m) => m.content),
      ['r3', 'r2'],
    );
    assert.deepEqual(page[0]!.referenced_message, {
      id: parent.id,
      author: { id: 'u1', username: 'one' },
      content: 'x'.repeat(100),
    });
    const next = await fx.store.replies.page('a', parent.id, { limit: 2, before: page[1]!.id });
    assert.deepEqual(
      next.map((m) => m.content),
      ['r1'],
    );
    const strayRead = await fx.store.messages.get('a', stray.id);
    assert.deepEqual(strayRead?.referenced_message, { id: elsewhere.id, deleted: true }, 'another channel’s message');
    await fx.store.messages.applyEdit({
      message_id: parent.id,
      channel_id: 'a',
      author_id: 'u1',
      event_id: id(1),
      content: 'edited',
    });
    assert.equal((await fx.store.messages.get('a', replies[0]!.id))?.referenced_message?.content, 'edited');
    await fx.store.messages.applyDelete({
      message_id: replies[1]!.id,
      channel_id: 'a',
      author_id: 'u1',
      event_id: id(1),
    });
    assert.deepEqual(
      (await fx.store.replies.page('a', parent.id, { limit: 10 })).map((m) => m.content),
      ['r3', 'r1'],
    );
    await fx.store.messages.applyDelete({ message_id: parent.id, channel_id: 'a', author_id: 'u1', event_id: id(1) });
    const history = await fx.store.messages.history('a', { limit: 10 });
    assert.deepEqual(history.find((m) => m.id === replies[0]!.id)?.referenced_message, {
      id: parent.id,
      deleted: true,
    });
    assert.equal(await fx.store.replies.exists('a', parent.id), true, 'a deleted message still has its replies');
    assert.equal(await fx.store.replies.exists('b', parent.id), false);
  });

  it('recounts racing on two connections, with replies stored and deleted between them, end at the exact count', async () => {
    const parent = message(2, 'c', 'popular');
    await fx.store.messages.append([parent]);
    const stores = [fx.store, other.store];
    const stored: string[] = [];
    // 12 rounds: both connections store replies and recount at once, so their counts and writes interleave.
    for (let round = 0; round < 12; round++) {
      await Promise.all(
        stores.map(async (store, k) => {
          const batch = Array.from({ length: 1 + ((round + k) % 4) }, (_, i) =>
            message(2, 'c', `${round}.${k}.${i}`, parent.id),
          );
          await store.messages.append(batch);
          stored.push(...batch.map((m) => m.id));
          await store.replies.recountOrWait('c', parent.id);
        }),
      );
      // Once every recount that followed a store has finished, the count is exact: no stale write wins.
      assert.equal((await fx.store.messages.get('c', parent.id))?.reply_count, stored.length, `round ${round}`);
      if (round % 3 === 2) {
        const gone = stored.shift()!;
        await other.store.messages.applyDelete({ message_id: gone, channel_id: 'c', author_id: 'u1', event_id: id(2) });
        await Promise.all(stores.map((s) => s.replies.recount('c', parent.id)));
      }
    }
    // A redelivered batch: stored again (duplicates) and recounted again.
    await fx.store.messages.append([message(2, 'c', 'late', parent.id)].map((m) => ({ ...m, id: stored[0]! })));
    await fx.store.replies.recountOrWait('c', parent.id);
    assert.equal((await fx.store.messages.get('c', parent.id))?.reply_count, stored.length);
    assert.equal((await fx.store.replies.page('c', parent.id, { limit: 100 })).length, stored.length);
  });

  it('a recount whose count went stale while another recount finished does not overwrite the newer count', async () => {
    const parent = message(4, 'e', 'contested');
    await fx.store.messages.append([parent, message(4, 'e', 'first', parent.id)]);
    // Recount A, held between its count and its write (a slow process), on the real collection.
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let reachedWrite = () => {};
    const atWrite = new Promise<void>((r) => {
      reachedWrite = r;
    });
    const messages = fx.db.collection('messages');
    const slow = new Proxy(messages, {
      get(target, prop) {
        if (prop === 'updateOne') {
          return async (...args: Parameters<typeof messages.updateOne>) => {
            reachedWrite();
            await held;
            return target.updateOne(...args);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const a = new Replies(slow as never, fx.db.collection('reply_waits') as never, fx.store.messages);
    const recountA = a.recount('e', parent.id);
    await atWrite; // A counted 1 reply
    // Meanwhile another reply is stored and recounted to completion elsewhere.
    await other.store.messages.append([message(4, 'e', 'second', parent.id)]);
    await other.store.replies.recount('e', parent.id);
    assert.equal((await fx.store.messages.get('e', parent.id))?.reply_count, 2);
    release();
    await recountA;
    assert.equal((await fx.store.messages.get('e', parent.id))?.reply_count, 2, "A's stale count of 1 did not land");
  });

  it('replies stored before their parent are counted when the parent is stored', async () => {
    const parentId = id(3);
    const early = [message(3, 'd', 'e1', parentId), message(3, 'd', 'e2', parentId)];
    await fx.store.messages.append(early);
    await fx.store.replies.recountOrWait('d', parentId);
    const parent = { ...message(3, 'd', 'late parent'), id: parentId };
    await fx.store.messages.append([parent]);
    assert.equal((await fx.store.messages.get('d', parentId))?.reply_count, undefined, 'not counted yet');
    await fx.store.replies.recountAwaited([parent]);
    assert.equal((await fx.store.messages.get('d', parentId))?.reply_count, 2);
    assert.equal(await fx.db.collection('reply_waits').countDocuments({}), 0, 'the wait is over');
  });
});
