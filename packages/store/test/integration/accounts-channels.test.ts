import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { slotOf } from '@chat/protocol';
import { ConflictError, createStore, NotFoundError, ValidationError } from '@chat/store';
import { openStore, type StoreFixture } from './fixture.js';

let next = 1000;
const id = () => String(next++);

describe('users', () => {
  let fx: StoreFixture;
  before(async () => {
    fx = await openStore({ redis: false });
  });
  after(async () => fx.close());

  it('registers a user, refuses the same name in another case, and authenticates only the right password', async () => {
    const alice = await fx.store.accounts.create(id(), 'Alice', 'correct horse');
    assert.equal(alice.username, 'Alice');
    await assert.rejects(fx.store.accounts.create(id(), 'alice', 'another password'), ConflictError);
    assert.deepEqual(await fx.store.accounts.authenticate('ALICE', 'correct horse'), alice);
    assert.equal(await fx.store.accounts.authenticate('alice', 'wrong horse'), null);
    assert.equal(await fx.store.accounts.authenticate('nobody', 'correct horse'), null);
    const doc = await fx.db.collection('users').findOne({ _id: alice.id as never });
    assert.match(String(doc?.password_hash), /^scrypt\$131072\$8\$1\$/, 'the default cost: N = 2^17');
    assert.ok(!String(doc?.password_hash).includes('correct horse'));
  });

  it('a good login re-hashes a password stored with a lower cost than the current one', async () => {
    const cheap = createStore({ db: fx.db, passwords: { logN: 12 } });
    const bob = await cheap.accounts.create(id(), 'bob-upgrade', 'correct horse');
    const current = createStore({ db: fx.db, passwords: { logN: 13 } });
    const hashOf = async () =>
      (await fx.db.collection('users').findOne({ _id: bob.id as never }))!.password_hash as string;
    assert.match(await hashOf(), /^scrypt\$4096\$/);
    assert.equal(await current.accounts.authenticate('bob-upgrade', 'wrong horse'), null);
    assert.match(await hashOf(), /^scrypt\$4096\$/, 'a failed login changes nothing');
    assert.deepEqual(await current.accounts.authenticate('bob-upgrade', 'correct horse'), bob);
    assert.match(await hashOf(), /^scrypt\$8192\$/);
    assert.deepEqual(await current.accounts.authenticate('bob-upgrade', 'correct horse'), bob);
  });

  it('reads the token versions of several users in one query, as tokenVersion reads each', async () => {
    const a = await fx.store.accounts.create(id(), 'tv-a', 'correct horse');
    const b = await fx.store.accounts.create(id(), 'tv-b', 'correct horse');
    assert.equal(await fx.store.accounts.revokeTokens(b.id), 1);
    assert.equal(await fx.store.accounts.revokeTokens(b.id), 2);
    const versions = await fx.store.accounts.tokenVersions([a.id, b.id, 'nobody', a.id]);
    assert.deepEqual([...versions].sort(), [
      [a.id, 0],
      [b.id, 2],
    ]);
    for (const u of [a.id, b.id, 'nobody']) {
      assert.equal(versions.get(u) ?? null, await fx.store.accounts.tokenVersion(u), u);
    }
    assert.equal((await fx.store.accounts.tokenVersions([])).size, 0);
  });

  it('rejects invalid usernames and passwords with a validation error', async () => {
    for (const [u, p] of [
      ['a', 'long enough'],
      ['x'.repeat(33), 'long enough'],
      ['has space', 'long enough'],
      ['<script>', 'long enough'],
      ['bob', 'short'],
      [42, 'long enough'],
    ] as const) {
      await assert.rejects(fx.store.accounts.create(id(), u, p), ValidationError, `${u}/${p}`);
    }
  });
});

describe('channels and membership', () => {
  let fx: StoreFixture;
  before(async () => {
    fx = await openStore();
  });
  after(async () => fx.close());

  it('a group has its creator and recipients as members, listed per user, and members can join and leave', async () => {
    const { channel, created, members } = await fx.store.channels.create({
      id: id(),
      kind: 'group',
      name: ' team ',
      creatorId: 'u1',
      recipients: ['u2', 'u3', 'u2'],
    });
    assert.equal(created, true);
    assert.equal(channel.name, 'team');
    assert.equal(channel.owner_id, 'u1');
    assert.deepEqual(members.sort(), ['u1', 'u2', 'u3']);
    assert.deepEqual((await fx.store.channels.members(channel.id)).sort(), ['u1', 'u2', 'u3']);
    assert.equal(await fx.store.channels.addMember(channel.id, 'u4'), true);
    assert.equal(await fx.store.channels.addMember(channel.id, 'u4'), false, 'joining twice is a no-op');
    assert.equal(await fx.store.channels.removeMember(channel.id, 'u2'), true);
    assert.equal(await fx.store.channels.removeMember(channel.id, 'u2'), false);
    assert.deepEqual((await fx.store.channels.members(channel.id)).sort(), ['u1', 'u3', 'u4']);
    assert.ok(await fx.store.channels.isMember(channel.id, 'u4'));
    assert.ok(!(await fx.store.channels.isMember(channel.id, 'u2')));
    assert.deepEqual(
      (await fx.store.channels.listForUser('u4')).map((c) => c.id),
      [channel.id],
    );
    await assert.rejects(fx.store.channels.addMember('no-such-channel', 'u1'), NotFoundError);
  });

  it("lists several users' channels in two queries, each user's as listForUser lists them", async () => {
    const g1 = await fx.store.channels.create({
      id: id(),
      kind: 'group',
      name: 'lf1',
      creatorId: 'lf-a',
      recipients: ['lf-b'],
    });
    const dm = await fx.store.channels.create({ id: id(), kind: 'dm', creatorId: 'lf-a', recipients: ['lf-c'] });
    const g2 = await fx.store.channels.create({
      id: id(),
      kind: 'group',
      name: 'lf2',
      creatorId: 'lf-b',
      recipients: ['lf-a'],
    });
    const users = ['lf-a', 'lf-b', 'lf-c', 'lf-nobody'];
    const lists = await fx.store.channels.listForUsers(users);
    assert.deepEqual([...lists.keys()].sort(), [...users].sort());
    for (const u of users) assert.deepEqual(lists.get(u), await fx.store.channels.listForUser(u), u);
    assert.deepEqual(
      lists.get('lf-a')?.map((c) => c.id),
      [g1.channel.id, dm.channel.id, g2.channel.id],
    );
    assert.deepEqual(lists.get('lf-nobody'), []);
    assert.equal((await fx.store.channels.listForUsers([])).size, 0);
  });

  it('a DM between two users exists once, whoever creates it', async () => {
    const first = await fx.store.channels.create({ id: id(), kind: 'dm', creatorId: 'd1', recipients: ['d2'] });
    const again = await fx.store.channels.create({ id: id(), kind: 'dm', creatorId: 'd2', recipients: ['d1'] });
    assert.equal(again.created, false);
    assert.equal(again.channel.id, first.channel.id);
    await assert.rejects(
      fx.store.channels.create({ id: id(), kind: 'dm', creatorId: 'd1', recipients: [] }),
      ValidationError,
    );
    await assert.rejects(
      fx.store.channels.create({ id: id(), kind: 'dm', creatorId: 'd1', recipients: ['d2', 'd3'] }),
      ValidationError,
    );
  });

  it('membership is served from Redis after the first read; a join adds to the cached set, a leave invalidates it', async () => {
    const { channel } = await fx.store.channels.create({
      id: id(),
      kind: 'group',
      name: 'cached',
      creatorId: 'm1',
      recipients: ['m2'],
    });
    const key = `${fx.redisPrefix}ch:{${channel.id}}:members`;
    await fx.store.channels.membership(channel.id);
    assert.deepEqual((await fx.redis!.smembers(key)).filter(Boolean).sort(), ['m1', 'm2'], 'filled on the miss');
    const slots = (await fx.store.channels.membership(channel.id)).slots.sort((a, b) => a - b);
    assert.deepEqual(
      slots,
      [...new Set(['m1', 'm2'].map((u) => slotOf(u)))].sort((a, b) => a - b),
    );
    await fx.store.channels.addMember(channel.id, 'm3');
    // The default group gains a member at every sign-up: the join must not make the next reader load them all.
    assert.deepEqual((await fx.redis!.smembers(key)).filter(Boolean).sort(), ['m1', 'm2', 'm3'], 'joined in place');
    const slotKey = `${fx.redisPrefix}ch:{${channel.id}}:slots`;
    assert.ok((await fx.redis!.smembers(slotKey)).includes(String(slotOf('m3'))), "the new member's slot too");
    assert.deepEqual((await fx.store.channels.members(channel.id)).sort(), ['m1', 'm2', 'm3']);
    await fx.store.channels.removeMember(channel.id, 'm1');
    assert.deepEqual((await fx.store.channels.members(channel.id)).sort(), ['m2', 'm3']);
    assert.ok(!(await fx.store.channels.isMember(channel.id, 'm1')));
  });

  it('counts members up to a bound and the groups a user is in (DMs apart)', async () => {
    const { channel } = await fx.store.channels.create({
      id: id(),
      kind: 'group',
      name: 'counted',
      creatorId: 'k1',
      recipients: ['k2', 'k3', 'k4'],
    });
    assert.equal(await fx.store.channels.memberCount(channel.id, 10), 4);
    assert.equal(await fx.store.channels.memberCount(channel.id, 2), 2, 'stops counting at the bound');
    await fx.store.channels.create({ id: id(), kind: 'group', name: 'second', creatorId: 'k1' });
    await fx.store.channels.create({ id: id(), kind: 'dm', creatorId: 'k1', recipients: ['k2'] });
    assert.equal(await fx.store.channels.groupCount('k1'), 2);
    assert.equal(await fx.store.channels.groupCount('k2'), 1);
    assert.equal(await fx.store.channels.groupCount('nobody'), 0);
  });

  it('a cache fill that read MongoDB before a membership change does not put the old members back', async () => {
    const { channel } = await fx.store.channels.create({ id: id(), kind: 'group', name: 'race', creatorId: 'r1' });
    // A slow reader: its MongoDB load finishes only after a member was added and the cache invalidated.
    const { MembershipCache } = await import('@chat/store');
    const cache = new MembershipCache({ redis: fx.redis!, prefix: fx.redisPrefix });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slowRead = cache.get(channel.id, async () => {
      const stale = { members: ['r1'], slots: [slotOf('r1')] };
      await gate;
      return stale;
    });
    await new Promise((r) => setTimeout(r, 20));
    await fx.store.channels.addMember(channel.id, 'r2');
    release();
    assert.deepEqual((await slowRead).members, ['r1'], 'the slow reader sees what it loaded');
    assert.deepEqual(
      (await fx.store.channels.members(channel.id)).sort(),
      ['r1', 'r2'],
      'but the cache does not keep it',
    );
  });
});
