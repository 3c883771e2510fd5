// Who may grow a group, and how far: only its owner adds members (nobody adds anyone to the default
// group, which users join at sign-up), a group has at most MAX_GROUP_MEMBERS members and a user is in
// at most MAX_GROUPS_PER_USER groups (the default group counts). Without these, anyone could add
// anyone to any number of groups and inflate the victim's READY without limit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack } from './stack.js';

const MAX_GROUPS = 3;
const MAX_MEMBERS = 4;

describe('groups: owner-only adds and caps', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      gateways: 1,
      gatewayEnv: { MAX_GROUPS_PER_USER: String(MAX_GROUPS), MAX_GROUP_MEMBERS: String(MAX_MEMBERS) },
    });
  });
  after(async () => stack?.close());

  const createGroup = async (token: string, name: string, recipients: string[]) =>
    http(stack.gateways[0]!.url, 'POST', '/api/channels', { kind: 'group', name, recipients }, token);
  const add = async (token: string, channelId: string, userId: string) =>
    http(stack.gateways[0]!.url, 'POST', `/api/channels/${channelId}/members`, { user_id: userId }, token);

  it('only the owner adds members; a member who is not the owner gets 403 forbidden', async () => {
    const gw = stack.gateways[0]!;
    const [owner, member, victim] = [
      await signUp(gw.url, 'g-owner'),
      await signUp(gw.url, 'g-member'),
      await signUp(gw.url, 'g-victim'),
    ];
    const group = (await createGroup(owner.token, 'owned', [member.id])).body;
    const refused = await add(member.token, group.id, victim.id);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'forbidden');
    const ws = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    const ready = await ws.identify(victim.token);
    assert.ok(!ready.channels.some((c: { id: string }) => c.id === group.id), 'the refused add left no trace');
    assert.equal((await add(owner.token, group.id, victim.id)).status, 204);
    await ws.next((f) => f.t === 'CHANNEL_MEMBER_ADD' && f.d.channel_id === group.id);
    ws.close();
  });

  it('an owner may let every member add members (invite: "members" at creation); the default stays owner-only', async () => {
    const gw = stack.gateways[0]!;
    const [owner, member, newcomer] = [
      await signUp(gw.url, 'i-owner'),
      await signUp(gw.url, 'i-member'),
      await signUp(gw.url, 'i-newcomer'),
    ];
    const open = await http(
      gw.url,
      'POST',
      '/api/channels',
      { kind: 'group', name: 'open', recipients: [member.id], invite: 'members' },
      owner.token,
    );
    assert.equal(open.status, 201);
    assert.equal(open.body.invite, 'members');
    assert.equal((await add(member.token, open.body.id, newcomer.id)).status, 204);
    const bad = await http(
      gw.url,
      'POST',
      '/api/channels',
      { kind: 'group', name: 'x', invite: 'anyone' },
      owner.token,
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'invalid_request');
  });

  it('nobody adds anyone to the default group', async () => {
    const gw = stack.gateways[0]!;
    const [a, b] = [await signUp(gw.url, 'd-a'), await signUp(gw.url, 'd-b')];
    // Both joined it at sign-up; re-adding is refused like any add by a non-owner.
    const res = await add(a.token, '1', b.id);
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'forbidden');
  });

  it(`a group holds at most ${MAX_MEMBERS} members: a bigger create and a further add get 409 limit_reached`, async () => {
    const gw = stack.gateways[0]!;
    const users = [];
    for (let i = 0; i < MAX_MEMBERS + 1; i++) users.push(await signUp(gw.url, `m-${i}`));
    const [owner, ...others] = users;
    const tooBig = await createGroup(
      owner!.token,
      'too big',
      others.map((u) => u.id),
    );
    assert.equal(tooBig.status, 409);
    assert.equal(tooBig.body.code, 'limit_reached');
    const full = await createGroup(
      owner!.token,
      'full',
      others.slice(0, MAX_MEMBERS - 1).map((u) => u.id),
    );
    assert.equal(full.status, 201);
    const more = await add(owner!.token, full.body.id, others.at(-1)!.id);
    assert.equal(more.status, 409);
    assert.equal(more.body.code, 'limit_reached');
  });

  it(`a user is in at most ${MAX_GROUPS} groups (the default group counts): creating or being added past it gets 409`, async () => {
    const gw = stack.gateways[0]!;
    const [busy, other] = [await signUp(gw.url, 'busy'), await signUp(gw.url, 'other')];
    // busy is in the default group already: two more groups reach the cap.
    for (let i = 0; i < MAX_GROUPS - 1; i++) assert.equal((await createGroup(busy.token, `own ${i}`, [])).status, 201);
    const fourth = await createGroup(busy.token, 'one too many', []);
    assert.equal(fourth.status, 409);
    assert.equal(fourth.body.code, 'limit_reached');
    const elsewhere = (await createGroup(other.token, 'elsewhere', [])).body;
    const added = await add(other.token, elsewhere.id, busy.id);
    assert.equal(added.status, 409);
    assert.equal(added.body.code, 'limit_reached');
    const invited = await createGroup(other.token, 'with busy', [busy.id]);
    assert.equal(invited.status, 409, 'a create that would put a capped user in one more group is refused too');
  });
});
