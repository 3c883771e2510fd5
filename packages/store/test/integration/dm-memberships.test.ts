// DM membership answered from memory: a DM's members never change, so once a process has learnt a DM
// it checks membership and reads the audience without Redis or MongoDB; groups always go to the
// source of truth, the map is bounded, and a DM is learnt as the pair its dm_key names, never with
// other than two members.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createStore, ValidationError } from '@chat/store';
import { type Document, MongoClient } from 'mongodb';
import { openStore, type StoreFixture } from './fixture.js';

let next = 5000;
const id = () => String(next++);

describe('DM memberships in memory', () => {
  let fx: StoreFixture;
  before(async () => {
    fx = await openStore({ dmCacheChannels: 3 });
  });
  after(async () => fx.close());

  /** Removes every trace of the channel's members from MongoDB and Redis behind the store's back. */
  async function eraseMembersOf(channelId: string): Promise<void> {
    await fx.db.collection('members').deleteMany({ channel_id: channelId });
    const keys = await fx.redis!.keys(`${fx.redisPrefix}ch:{${channelId}}:*`);
    if (keys.length > 0) await fx.redis!.del(...keys);
  }

  /** A client of its own whose `find` commands are recorded, each as `describe` puts it. */
  async function monitoredFinds(
    describe: (command: Document) => string,
  ): Promise<{ monitored: MongoClient; finds: string[] }> {
    const monitored = await new MongoClient(fx.mongoUrl, {
      serverSelectionTimeoutMS: 5000,
      monitorCommands: true,
    }).connect();
    const finds: string[] = [];
    monitored.on('commandStarted', (e) => {
      if (e.commandName === 'find') finds.push(describe(e.command));
    });
    return { monitored, finds };
  }

  it('a DM, once learnt, is answered from memory', async () => {
    const dm = (await fx.store.channels.create({ id: id(), kind: 'dm', creatorId: 'a1', recipients: ['a2'] })).channel;
    // First reads go to the cache / MongoDB and start learning the channel in the background.
    assert.equal(await fx.store.channels.isMember(dm.id, 'a1'), true);
    await fx.store.channels.dmMemberships.settled();
    assert.deepEqual([...(fx.store.channels.dmMemberships.get(dm.id)?.members ?? [])].sort(), ['a1', 'a2']);
    await eraseMembersOf(dm.id);
    assert.equal(await fx.store.channels.isMember(dm.id, 'a2'), true);
    assert.equal(await fx.store.channels.isMember(dm.id, 'stranger'), false);
    assert.deepEqual([...(await fx.store.channels.membership(dm.id)).members].sort(), ['a1', 'a2']);
  });

  it('a group is learnt as "not a DM" and keeps following its members', async () => {
    const group = (
      await fx.store.channels.create({ id: id(), kind: 'group', name: 'g', creatorId: 'b1', recipients: ['b2'] })
    ).channel;
    assert.equal(await fx.store.channels.isMember(group.id, 'b2'), true);
    await fx.store.channels.dmMemberships.settled();
    assert.equal(fx.store.channels.dmMemberships.get(group.id), undefined);
    assert.equal(await fx.store.channels.removeMember(group.id, 'b2'), true);
    assert.equal(await fx.store.channels.isMember(group.id, 'b2'), false);
    assert.deepEqual((await fx.store.channels.membership(group.id)).members, ['b1']);
  });

  it("refuses to change a DM's members", async () => {
    const dm = (await fx.store.channels.create({ id: id(), kind: 'dm', creatorId: 'c1', recipients: ['c2'] })).channel;
    await assert.rejects(fx.store.channels.removeMember(dm.id, 'c2'), ValidationError);
    assert.equal(await fx.store.channels.isMember(dm.id, 'c2'), true);
  });

  it('membershipMany answers like membership per channel, and learns unknown DMs in one query', async () => {
    const { channels } = fx.store;
    const dms = [];
    for (let i = 0; i < 2; i++)
      dms.push(
        (await channels.create({ id: id(), kind: 'dm', creatorId: `m${i}a`, recipients: [`m${i}b`] })).channel.id,
      );
    const group = (await channels.create({ id: id(), kind: 'group', name: 'g', creatorId: 'm9', recipients: ['m8'] }))
      .channel.id;
    const half = id();
    await fx.db
      .collection('channels')
      .insertOne({ _id: half as never, kind: 'dm', name: null, created_at: new Date() });
    await fx.db
      .collection('members')
      .insertOne({ channel_id: half, user_id: 'lonely', joined_at: new Date() } as never);
    const missing = id();
    const all = [...dms, group, half, missing];
    const { monitored, finds } = await monitoredFinds((c) => String(c.find));
    try {
      // A store of its own (a process that has seen none of these channels), without Redis.
      const cold = createStore({ db: monitored.db(fx.db.databaseName), dmCacheChannels: 10 }).channels;
      const many = await cold.membershipMany([...all, dms[0]!]);
      assert.deepEqual([...many.keys()].sort(), [...all].sort());
      for (const c of all) {
        const one = await channels.membership(c);
        assert.deepEqual(
          { members: [...many.get(c)!.members].sort(), slots: [...many.get(c)!.slots].sort() },
          { members: [...one.members].sort(), slots: [...one.slots].sort() },
          `channel ${c}`,
        );
      }
      await cold.dmMemberships.settled();
      assert.ok(cold.dmMemberships.get(dms[0]!) && cold.dmMemberships.get(dms[1]!), 'both DMs remembered');
      assert.equal(cold.dmMemberships.get(half), undefined, 'a half-created DM is not remembered');
      // Answered again: the DMs from memory, the group (known not a DM) and the others through membership().
      finds.length = 0;
      await cold.membershipMany(dms);
      assert.deepEqual(finds, [], 'known DMs: no query');
      const fresh = createStore({ db: monitored.db(fx.db.databaseName), dmCacheChannels: 10 }).channels;
      finds.length = 0;
      await fresh.membershipMany(dms);
      assert.deepEqual(finds, ['channels'], 'unknown DMs: one query, for their kinds and pairs (dm_key)');
    } finally {
      await monitored.close();
    }
  });

  it('learnDms learns the unknown DMs of a channel list in one query, and skips groups and known DMs', async () => {
    const { channels } = fx.store;
    const dms: string[] = [];
    for (let i = 0; i < 2; i++)
      dms.push(
        (await channels.create({ id: id(), kind: 'dm', creatorId: `w${i}a`, recipients: [`w${i}b`] })).channel.id,
      );
    const group = (await channels.create({ id: id(), kind: 'group', name: 'g', creatorId: 'w9', recipients: ['w8'] }))
      .channel;
    const half = id();
    await fx.db
      .collection('channels')
      .insertOne({ _id: half as never, kind: 'dm', name: null, created_at: new Date() });
    await fx.db.collection('members').insertOne({ channel_id: half, user_id: 'w7', joined_at: new Date() } as never);
    const list = [
      ...dms.map((d) => ({ id: d, kind: 'dm' as const })),
      { id: half, kind: 'dm' as const },
      { id: group.id, kind: group.kind },
    ];
    const { monitored, finds } = await monitoredFinds((c) => `${c.find} ${JSON.stringify(c.filter)}`);
    try {
      const cold = createStore({ db: monitored.db(fx.db.databaseName), dmCacheChannels: 10 }).channels;
      // Two callers in one turn: the second finds the DMs being learned and adds nothing.
      await Promise.all([cold.learnDms(list), cold.learnDms(list)]);
      assert.equal(finds.length, 1, 'one query for every unknown DM');
      assert.ok(!finds[0]!.includes(group.id), 'a group is not looked up as a DM');
      for (const d of dms) {
        assert.equal(cold.dmMemberships.get(d)?.members.length, 2, `DM ${d} learned with both members`);
      }
      assert.equal(cold.dmMemberships.get(half), undefined, 'a half-created DM is not remembered');
      assert.equal(cold.dmMemberships.knows(group.id), false, 'a group is left to membership()');
      // Learned: the first membership checks need no query at all.
      finds.length = 0;
      assert.equal(await cold.isMember(dms[0]!, 'w0b'), true);
      assert.equal(await cold.isMember(dms[1]!, 'stranger'), false);
      await cold.learnDms(list.slice(0, 2));
      assert.deepEqual(finds, [], 'known DMs: no query');
    } finally {
      await monitored.close();
    }
  });

  it('learnDms resolves even when MongoDB fails, leaving the DMs to be learned on first use', async () => {
    // Nothing listens on port 1: every query fails once server selection gives up.
    const unreachable = new MongoClient('mongodb://127.0.0.1:1', { serverSelectionTimeoutMS: 200 });
    try {
      const cold = createStore({ db: unreachable.db(fx.db.databaseName), dmCacheChannels: 10 }).channels;
      await cold.learnDms([{ id: '424242', kind: 'dm' }]);
      assert.equal(cold.dmMemberships.knows('424242'), false);
      await cold.dmMemberships.settled();
    } finally {
      await unreachable.close();
    }
  });

  it('never remembers a DM with other than two members, nor an unknown channel', async () => {
    const half = id();
    await fx.db
      .collection('channels')
      .insertOne({ _id: half as never, kind: 'dm', name: null, created_at: new Date() });
    await fx.db.collection('members').insertOne({ channel_id: half, user_id: 'd1', joined_at: new Date() });
    assert.equal(await fx.store.channels.isMember(half, 'd1'), true);
    assert.equal(await fx.store.channels.isMember('999999999', 'd1'), false);
    await fx.store.channels.dmMemberships.settled();
    assert.equal(fx.store.channels.dmMemberships.get(half), undefined);
    assert.equal(fx.store.channels.dmMemberships.get('999999999'), undefined);
  });

  it('learns a DM as its pair (dm_key), even one whose creation stopped before its second member was stored', async () => {
    const cut = id();
    await fx.db
      .collection('channels')
      .insertOne({ _id: cut as never, kind: 'dm', name: null, dm_key: 'h1:h2', created_at: new Date() });
    await fx.db.collection('members').insertOne({ channel_id: cut, user_id: 'h1', joined_at: new Date() });
    const cold = createStore({ db: fx.db, dmCacheChannels: 10 }).channels;
    const many = await cold.membershipMany([cut]);
    assert.deepEqual(many.get(cut)?.members, ['h1', 'h2']);
    assert.deepEqual(cold.dmMemberships.get(cut)?.members, ['h1', 'h2']);
    assert.equal(await cold.isMember(cut, 'h2'), true);
    // Creating the pair's DM again finds this one and stores the missing member: the listings agree.
    const again = await fx.store.channels.create({ id: id(), kind: 'dm', creatorId: 'h2', recipients: ['h1'] });
    assert.equal(again.created, false);
    assert.equal(again.channel.id, cut);
    assert.deepEqual([...(await fx.store.channels.members(cut))].sort(), ['h1', 'h2']);
  });

  it('remembers at most its bound of channels, forgetting the oldest', async () => {
    const dms: string[] = [];
    for (let i = 0; i < 5; i++) {
      const dm = (await fx.store.channels.create({ id: id(), kind: 'dm', creatorId: `e${i}`, recipients: ['e'] }))
        .channel;
      dms.push(dm.id);
      await fx.store.channels.membership(dm.id);
      await fx.store.channels.dmMemberships.settled();
    }
    assert.equal(fx.store.channels.dmMemberships.size, 3);
    assert.equal(fx.store.channels.dmMemberships.get(dms[0]!), undefined);
    assert.deepEqual([...(fx.store.channels.dmMemberships.get(dms[4]!)?.members ?? [])].sort(), ['e', 'e4']);
  });
});
