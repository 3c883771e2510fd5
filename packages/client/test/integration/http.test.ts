// The HTTP API helpers (docs/protocol.md §6) against the scripted peer of fake-server.ts (a fake only
// because the real gateway is being built concurrently): paths, bodies, the Bearer token, and the
// mapping of error statuses to ChatApiError.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatApiError, createClient, type FetchLike, NetworkError, RequestTimeoutError } from '../../src/index.js';
import { startFakeServer } from './fake-server.js';
import { ALICE, fixture, GENERAL, message } from './helpers.js';

describe('HTTP API', () => {
  it('register() posts the credentials without a token and returns the user', async (t) => {
    const f = await fixture(t, { token: null });
    f.server.onHttp = () => ({ status: 201, body: ALICE });
    assert.deepEqual(await f.client.register('alice', 'secret'), ALICE);
    const [req] = f.server.httpRequests;
    assert.equal(req?.method, 'POST');
    assert.equal(req?.url, '/api/v1/users');
    assert.deepEqual(req?.body, { username: 'alice', password: 'secret' });
    assert.equal(req?.headers.authorization, undefined);
    assert.equal(req?.headers['content-type'], 'application/json');
  });

  it('login() stores the token and the user, and later calls send the token as a Bearer token', async (t) => {
    const f = await fixture(t, { token: null });
    f.server.onHttp = (req) =>
      req.url === '/api/v1/sessions'
        ? { status: 200, body: { token: 'jwt-1', user: ALICE } }
        : { status: 200, body: req.url === '/api/v1/users/@me' ? ALICE : [GENERAL] };
    assert.deepEqual(await f.client.login('alice', 'secret'), { token: 'jwt-1', user: ALICE });
    assert.equal(f.client.token, 'jwt-1');
    assert.deepEqual(f.client.user, ALICE);
    assert.deepEqual(await f.client.me(), ALICE);
    assert.deepEqual(await f.client.channels(), [GENERAL]);
    const [login, me, channels] = f.server.httpRequests;
    assert.equal(login?.headers.authorization, undefined);
    assert.equal(me?.url, '/api/v1/users/@me');
    assert.equal(me?.headers.authorization, 'Bearer jwt-1');
    assert.equal(channels?.url, '/api/v1/users/@me/channels');
    assert.equal(channels?.headers.authorization, 'Bearer jwt-1');
  });

  it('logout() sends DELETE /api/v1/sessions with the token, then forgets the token', async (t) => {
    const f = await fixture(t);
    const token = f.client.token;
    f.server.onHttp = () => ({ status: 204 });
    assert.equal(await f.client.logout(), undefined);
    const [req] = f.server.httpRequests;
    assert.equal(req?.method, 'DELETE');
    assert.equal(req?.url, '/api/v1/sessions');
    assert.equal(req?.headers.authorization, `Bearer ${token}`);
    assert.equal(f.client.token, null);
  });

  it('channel and member calls use the paths and bodies of the protocol, and a 204 resolves to undefined', async (t) => {
    const f = await fixture(t);
    f.server.onHttp = (req) =>
      req.method === 'POST' && req.url === '/api/v1/channels' ? { status: 201, body: GENERAL } : { status: 204 };
    assert.deepEqual(await f.client.createChannel({ kind: 'group', name: 'general' }), GENERAL);
    assert.equal(await f.client.addMember(GENERAL.id, '1002'), undefined);
    assert.equal(await f.client.removeMember(GENERAL.id, '1002'), undefined);
    assert.deepEqual(
      f.server.httpRequests.map((r) => [r.method, r.url, r.body]),
      [
        ['POST', '/api/v1/channels', { kind: 'group', name: 'general' }],
        ['POST', `/api/v1/channels/${GENERAL.id}/members`, { user_id: '1002' }],
        ['DELETE', `/api/v1/channels/${GENERAL.id}/members/1002`, undefined],
      ],
    );
  });

  it('without a session, message operations use the HTTP paths, methods and bodies of the protocol', async (t) => {
    const f = await fixture(t);
    const m = message('264905529753620487', 'hi');
    f.server.onHttp = (req) =>
      req.method === 'DELETE'
        ? { status: 204 }
        : { status: req.method === 'POST' ? 201 : 200, body: req.method === 'GET' ? [m] : m };
    assert.deepEqual(await f.client.history(GENERAL.id, { before: '264905529753620487', limit: 10 }), [m]);
    assert.deepEqual(await f.client.history(GENERAL.id), [m]);
    assert.deepEqual(await f.client.send(GENERAL.id, 'hi', { nonce: 'n-1' }), m);
    assert.deepEqual(await f.client.send(GENERAL.id, 'hi'), m);
    assert.deepEqual(await f.client.edit(GENERAL.id, m.id, 'hey'), m);
    assert.equal(await f.client.delete(GENERAL.id, m.id), undefined);
    const generated = (f.server.httpRequests[3]?.body as { nonce?: unknown } | undefined)?.nonce;
    assert.ok(typeof generated === 'string' && generated.length > 0, 'send() generates a nonce');
    const base = `/api/v1/channels/${GENERAL.id}/messages`;
    assert.deepEqual(
      f.server.httpRequests.map((r) => [r.method, r.url, r.body]),
      [
        ['GET', `${base}?before=264905529753620487&limit=10`, undefined],
        ['GET', base, undefined],
        ['POST', base, { content: 'hi', nonce: 'n-1' }],
        ['POST', base, { content: 'hi', nonce: generated }],
        ['PATCH', `${base}/${m.id}`, { content: 'hey' }],
        ['DELETE', `${base}/${m.id}`, undefined],
      ],
    );
  });

  it('a 403 rejects with ChatApiError carrying the status and the server code and message', async (t) => {
    const f = await fixture(t);
    f.server.onHttp = () => ({ status: 403, body: { code: 'forbidden', message: 'not a member' } });
    await assert.rejects(f.client.history('3999'), (err: unknown) => {
      assert.ok(err instanceof ChatApiError);
      assert.equal(err.status, 403);
      assert.equal(err.code, 'forbidden');
      assert.equal(err.message, 'not a member');
      assert.equal(err.retryAfter, undefined);
      assert.equal(err.retryable, false);
      return true;
    });
  });

  it('a 429 rejects with ChatApiError whose retryAfter comes from Retry-After', async (t) => {
    const f = await fixture(t);
    f.server.onHttp = () => ({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { code: 'rate_limited', message: 'slow down' },
    });
    await assert.rejects(f.client.send(GENERAL.id, 'hi'), (err: unknown) => {
      assert.ok(err instanceof ChatApiError);
      assert.equal(err.status, 429);
      assert.equal(err.code, 'rate_limited');
      assert.equal(err.retryAfter, 7);
      assert.equal(err.retryable, true);
      return true;
    });
  });

  it('an error status without a JSON body keeps the status line and a code of http_<status>', async (t) => {
    const f = await fixture(t);
    f.server.onHttp = () => ({ status: 502, body: '<html>bad gateway</html>' });
    await assert.rejects(f.client.me(), (err: unknown) => {
      assert.ok(err instanceof ChatApiError);
      assert.equal(err.code, 'http_502');
      assert.equal(err.status, 502);
      return true;
    });
  });

  it('a call without an answer rejects with RequestTimeoutError after requestTimeoutMs', async (t) => {
    const f = await fixture(t, { requestTimeoutMs: 100 });
    f.server.onHttp = () => ({ status: 200, hang: true });
    await assert.rejects(f.client.me(), RequestTimeoutError);
  });

  it('a server that cannot be reached rejects with NetworkError', async () => {
    const server = await startFakeServer();
    await server.close();
    const client = createClient({ baseUrl: server.baseUrl });
    await assert.rejects(client.me(), NetworkError);
  });

  it('an injected fetch carries every call, and a base URL path prefix is kept', async () => {
    const calls: Array<{ url: string; method: string; auth: string | undefined }> = [];
    const fetch: FetchLike = async (url, init) => {
      calls.push({ url, method: init.method, auth: init.headers.authorization });
      return new Response(JSON.stringify(ALICE), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const client = createClient({ baseUrl: 'https://chat.example/prefix/', token: 't', fetch });
    assert.deepEqual(await client.me(), ALICE);
    assert.deepEqual(calls, [{ url: 'https://chat.example/prefix/api/v1/users/@me', method: 'GET', auth: 'Bearer t' }]);
  });
});
