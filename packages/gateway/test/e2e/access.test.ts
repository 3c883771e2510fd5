import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT } from 'jose';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack } from './stack.js';

describe('access control', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ gateways: 1 });
  });
  after(async () => stack?.close());

  it('a non-member cannot read, send to, or receive from a channel', async () => {
    const gw = stack.gateways[0]!;
    const [owner, friend, outsider] = [
      await signUp(gw.url, 'owner'),
      await signUp(gw.url, 'friend'),
      await signUp(gw.url, 'outsider'),
    ];
    const secret = (
      await http(
        gw.url,
        'POST',
        '/api/channels',
        { kind: 'group', name: 'secret', recipients: [friend.id] },
        owner.token,
      )
    ).body;
    const spy = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    const ready = await spy.identify(outsider.token);
    assert.ok(!ready.channels.some((c: { id: string }) => c.id === secret.id));

    const checks: Array<[string, string, unknown]> = [
      ['GET', `/api/channels/${secret.id}/messages`, undefined],
      ['POST', `/api/channels/${secret.id}/messages`, { content: 'let me in' }],
      ['POST', `/api/channels/${secret.id}/members`, { user_id: outsider.id }],
      ['DELETE', `/api/channels/${secret.id}/members/${friend.id}`, undefined],
    ];
    for (const [method, path, body] of checks) {
      const res = await http(gw.url, method, path, body, outsider.token);
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.code, 'not_a_member');
      assert.ok(!JSON.stringify(res.body).includes('secret message'), 'no message of the channel leaks');
    }
    for (const [method, params] of [
      ['message.create', { channel_id: secret.id, content: 'x' }],
      ['history.get', { channel_id: secret.id }],
      ['typing.start', { channel_id: secret.id }],
    ] as const) {
      const res = await spy.request(method, params);
      assert.equal(res.ok, false);
      assert.equal(res.error.code, 'not_a_member', method);
    }
    const sent = (
      await http(gw.url, 'POST', `/api/channels/${secret.id}/messages`, { content: 'secret message' }, owner.token)
    ).body;
    const friendWs = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    await friendWs.identify(friend.token);
    await http(gw.url, 'POST', `/api/channels/${secret.id}/messages`, { content: 'secret message 2' }, owner.token);
    await friendWs.next((f) => f.t === 'MESSAGE_CREATE' && f.d.content === 'secret message 2');
    await sleep(300);
    assert.ok(
      !spy.frames.some((f) => JSON.stringify(f).includes(secret.id)),
      'the outsider received nothing of the channel',
    );
    assert.ok(sent.id);

    // Once added, the outsider's open socket starts receiving; once removed, it stops.
    assert.equal(
      (await http(gw.url, 'POST', `/api/channels/${secret.id}/members`, { user_id: outsider.id }, owner.token)).status,
      204,
    );
    await spy.next((f) => f.t === 'CHANNEL_MEMBER_ADD' && f.d.channel_id === secret.id);
    await http(gw.url, 'POST', `/api/channels/${secret.id}/messages`, { content: 'welcome' }, owner.token);
    await spy.next((f) => f.t === 'MESSAGE_CREATE' && f.d.content === 'welcome');
    assert.equal(
      (await http(gw.url, 'DELETE', `/api/channels/${secret.id}/members/${outsider.id}`, undefined, owner.token))
        .status,
      204,
    );
    await spy.next((f) => f.t === 'CHANNEL_MEMBER_REMOVE' && f.d.user_id === outsider.id);
    await http(gw.url, 'POST', `/api/channels/${secret.id}/messages`, { content: 'after you left' }, owner.token);
    await friendWs.next((f) => f.t === 'MESSAGE_CREATE' && f.d.content === 'after you left');
    await sleep(300);
    assert.ok(!spy.frames.some((f) => f.d?.content === 'after you left'));
    assert.equal(
      (await http(gw.url, 'GET', `/api/channels/${secret.id}/messages`, undefined, outsider.token)).status,
      403,
    );
    spy.close();
    friendWs.close();
  });

  it('logout (DELETE /api/sessions) revokes every token of the user, on HTTP and IDENTIFY; a new login works', async () => {
    const gw = stack.gateways[0]!;
    const user = await signUp(gw.url, 'leaver');
    const second = (
      await http(gw.url, 'POST', '/api/sessions', { username: 'leaver', password: 'correct horse battery' })
    ).body.token as string;
    assert.equal((await http(gw.url, 'GET', '/api/users/@me', undefined, second)).status, 200);
    assert.equal((await http(gw.url, 'DELETE', '/api/sessions', undefined, user.token)).status, 204);
    for (const token of [user.token, second]) {
      const res = await http(gw.url, 'GET', '/api/users/@me', undefined, token);
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'unauthorized');
      const ws = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
      ws.send({ op: 2, d: { token } });
      assert.equal(await ws.closed(), 4004);
    }
    assert.equal((await http(gw.url, 'DELETE', '/api/sessions', undefined, user.token)).status, 401);
    const fresh = (
      await http(gw.url, 'POST', '/api/sessions', { username: 'leaver', password: 'correct horse battery' })
    ).body.token as string;
    assert.equal((await http(gw.url, 'GET', '/api/users/@me', undefined, fresh)).status, 200);
    const ws = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    assert.equal((await ws.identify(fresh)).user.id, user.id);
    ws.close();
  });

  it('a forged, expired or missing token is refused: 401 over HTTP, close 4004 on IDENTIFY, 4003 before it', async () => {
    const gw = stack.gateways[0]!;
    const user = await signUp(gw.url, 'tokens');
    const key = new TextEncoder().encode(stack.secret);
    const expired = await new SignJWT({ name: 'tokens' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer('chat-gateway')
      .setIssuedAt(1_700_000_000)
      .setExpirationTime(1_700_000_060)
      .sign(key);
    const forged = await new SignJWT({ name: 'tokens' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer('chat-gateway')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-secret-not-the-secret-not-the-secret'));
    const noneAlg = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: user.id, name: 'tokens', iss: 'chat-gateway' })).toString('base64url')}.`;
    for (const token of [expired, forged, noneAlg]) {
      const res = await http(gw.url, 'GET', '/api/users/@me', undefined, token);
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'unauthorized');
      const c = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
      c.send({ op: 2, d: { token } });
      assert.equal(await c.closed(), 4004);
    }
    assert.equal((await http(gw.url, 'GET', '/api/users/@me')).status, 401);
    const early = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    early.send({ op: 20, d: { id: '1', method: 'history.get', params: { channel_id: '1' } } });
    assert.equal(await early.closed(), 4003);
    assert.equal((await http(gw.url, 'GET', '/api/users/@me', undefined, user.token)).status, 200);
  });
});
