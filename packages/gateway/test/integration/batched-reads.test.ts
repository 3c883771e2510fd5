// The gateway's batched IDENTIFY/RESUME reads against the real store (MongoDB stand-in or MONGO_URL):
// what many sockets ask in one turn is one query per batch (counted with the driver's command
// monitoring), each answer equals the unbatched read, a revocation made before the call is seen, and
// a replay read follows the call (a message stored before it is replayed).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SnowflakeGenerator } from '@chat/router';
import { createStore, type Store } from '@chat/store';
import { type MongoHandle, startMongo, uniquePrefix } from '@chat/testkit';
import { type Db, MongoClient } from 'mongodb';
import { batchedReads } from '../../src/batched-reads.js';

describe('batched IDENTIFY/RESUME reads', () => {
  let mongo: MongoHandle;
  let client: MongoClient;
  let db: Db;
  let store: Store;
  /** find commands per collection since the last reset. */
  let finds = new Map<string, number>();
  const ids = new SnowflakeGenerator({ workerId: 7 });

  before(async () => {
    mongo = await startMongo();
    client = await new MongoClient(mongo.url, { serverSelectionTimeoutMS: 5000, monitorCommands: true }).connect();
    client.on('commandStarted', (e) => {
      if (e.commandName === 'find') {
        const coll = String((e.command as { find?: unknown }).find);
        finds.set(coll, (finds.get(coll) ?? 0) + 1);
      }
    });
    db = client.db(uniquePrefix('batched').replace(/-+$/, '').replace(/-/g, '_'));
    store = createStore({ db, passwords: { logN: 10 } });
    await store.init();
  });
  after(async () => {
    await db.dropDatabase().catch(() => {});
    await client.close();
    await mongo.close();
  });

  it("token versions and RESUME channels of many users: one query per batch, each as the user's own read", async () => {
    const users = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => store.accounts.create(await ids.next(), `bt${i}`, 'correct horse')),
    );
    const group = await store.channels.create({
      id: await ids.next(),
      kind: 'group',
      name: 'all',
      creatorId: users[0]!.id,
      recipients: users.slice(1).map((u) => u.id),
    });
    const dm = await store.channels.create({
      id: await ids.next(),
      kind: 'dm',
      creatorId: users[0]!.id,
      recipients: [users[1]!.id],
    });
    await store.accounts.revokeTokens(users[3]!.id);
    const reads = batchedReads(store, 5);
    finds = new Map();
    const asked = [...users.map((u) => u.id), 'nobody'];
    const [versions, channels] = await Promise.all([
      Promise.all(asked.map((u) => reads.tokenVersion(u))),
      Promise.all(asked.map((u) => reads.memberChannels(u))),
    ]);
    // 13 users in batches of at most 5: 3 account queries; channels: 3 membership + 3 channel queries.
    assert.equal(finds.get('users'), 3);
    assert.equal(finds.get('members'), 3);
    assert.equal(finds.get('channels'), 3);
    for (const [i, u] of asked.entries()) {
      assert.equal(versions[i], await store.accounts.tokenVersion(u), u);
      assert.deepEqual(channels[i], await store.channels.listForUser(u), u);
    }
    assert.equal(versions[3], 1, 'the revocation is seen');
    assert.deepEqual(
      channels[0]!.map((c) => c.id),
      [group.channel.id, dm.channel.id],
    );
    // A revocation that finished before the call is seen by the batched read.
    await store.accounts.revokeTokens(users[0]!.id);
    assert.equal(await reads.tokenVersion(users[0]!.id), 1);
  });

  it('replays asked in one turn for the same channels and `since` share one read, stored before the call', async () => {
    const channelId = await ids.next();
    const since = await ids.next();
    const reads = batchedReads(store);
    const first = await ids.next();
    await store.messages.append([
      { id: first, channel_id: channelId, author: { id: 'a', username: 'a' }, content: 'one' },
    ]);
    finds = new Map();
    const replays = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        reads.changesSince(i % 2 === 0 ? [channelId, 'other'] : ['other', channelId], since, 100),
      ),
    );
    // One replay is two finds (created, changed) and maybe one for reply parents; 20 sockets, one replay.
    const shared = finds.get('messages') ?? 0;
    assert.ok(shared >= 2 && shared <= 3, `${shared} finds for 20 replays of the same channels and since`);
    const direct = await store.messages.changesSince([channelId], since, 100);
    assert.equal(direct.events.length, 1);
    for (const r of replays) assert.deepEqual(r, direct);
    assert.deepEqual(await reads.changesSince([], since, 100), { events: [], truncated: false });
  });
});
