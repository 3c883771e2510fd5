// The HTTP API's HTTP manners against a real gateway: `/api/v1/…` with `/api/…` as its alias, `Allow`
// on every 405 (and on OPTIONS), `WWW-Authenticate: Bearer` on every 401, and CORS for the origins in
// CORS_ORIGINS only (preflight with methods, headers and max-age; nothing for any other origin).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, type Stack, signUp, startStack } from './stack.js';

const APP = 'https://app.example.com';
const OTHER = 'https://evil.example.com';

function corsHeaders(headers: Headers): string[] {
  return [...headers.keys()].filter((k) => k.startsWith('access-control-'));
}

describe('HTTP API: versioned path, Allow, WWW-Authenticate, CORS', () => {
  let stack: Stack;
  let base: string;
  before(async () => {
    stack = await startStack({ gateways: 1, gatewayEnv: { CORS_ORIGINS: `${APP},http://localhost:5173` } });
    base = stack.gateways[0]!.url;
  });
  after(async () => stack?.close());

  it('/api/v1/… is the API and /api/… the same API', async () => {
    const reg = await http(base, 'POST', '/api/v1/users', { username: 'v1-user', password: 'correct horse battery' });
    assert.equal(reg.status, 201);
    const login = await http(base, 'POST', '/api/v1/sessions', {
      username: 'v1-user',
      password: 'correct horse battery',
    });
    assert.equal(login.status, 200);
    const v1 = await http(base, 'GET', '/api/v1/users/@me', undefined, login.body.token);
    const alias = await http(base, 'GET', '/api/users/@me', undefined, login.body.token);
    assert.equal(v1.status, 200);
    assert.deepEqual(v1.body, alias.body);
    assert.equal(v1.body.id, reg.body.id);
    const ch = await http(base, 'GET', '/api/v1/users/@me/channels', undefined, login.body.token);
    assert.deepEqual(ch.body, (await http(base, 'GET', '/api/users/@me/channels', undefined, login.body.token)).body);
    assert.equal((await http(base, 'GET', '/api/v2/users/@me', undefined, login.body.token)).status, 404);
  });

  it('every 405 names the methods of the route in Allow', async () => {
    const user = await signUp(base, 'allow-user');
    const cases: Array<[string, string, string]> = [
      ['PUT', '/api/v1/users', 'POST, OPTIONS'],
      ['GET', '/api/v1/sessions', 'POST, DELETE, OPTIONS'],
      ['DELETE', '/api/users/@me', 'GET, OPTIONS'],
      ['POST', '/api/v1/users/@me/channels', 'GET, OPTIONS'],
      ['GET', '/api/v1/channels', 'POST, OPTIONS'],
      ['GET', '/api/v1/channels/1/members', 'POST, OPTIONS'],
      ['GET', '/api/v1/channels/1/members/2', 'DELETE, OPTIONS'],
      ['PUT', '/api/v1/channels/1/messages', 'GET, POST, OPTIONS'],
      ['GET', '/api/v1/channels/1/messages/2', 'PATCH, DELETE, OPTIONS'],
      ['POST', '/healthz', 'GET'],
      ['POST', '/readyz', 'GET'],
      ['DELETE', '/metrics', 'GET'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await http(base, method, path, undefined, user.token);
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.body.code, 'method_not_allowed');
      assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
    }
    const options = await http(base, 'OPTIONS', '/api/v1/channels/1/messages');
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('allow'), 'GET, POST, OPTIONS');
  });

  it('every 401 carries WWW-Authenticate: Bearer', async () => {
    await signUp(base, 'auth-user');
    const none = await http(base, 'GET', '/api/v1/users/@me');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="chat"');
    const forged = await http(base, 'POST', '/api/v1/channels', { kind: 'group', name: 'x' }, 'forged.token.here');
    assert.equal(forged.status, 401);
    assert.equal(forged.headers.get('www-authenticate'), 'Bearer realm="chat", error="invalid_token"');
    const wrongPassword = await http(base, 'POST', '/api/v1/sessions', {
      username: 'auth-user',
      password: 'wrong one',
    });
    assert.equal(wrongPassword.status, 401);
    assert.match(wrongPassword.headers.get('www-authenticate') ?? '', /^Bearer /);
    const ok = await http(base, 'POST', '/api/v1/sessions', {
      username: 'auth-user',
      password: 'correct horse battery',
    });
    assert.equal(ok.headers.get('www-authenticate'), null, 'only 401s challenge');
  });

  it('CORS: a configured origin gets a preflight and readable answers (errors too); any other origin gets no CORS header', async () => {
    const user = await signUp(base, 'cors-user');
    const preflight = await http(base, 'OPTIONS', '/api/v1/channels/1/messages', undefined, undefined, {
      headers: {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), APP);
    assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET, POST');
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'authorization, content-type');
    assert.equal(preflight.headers.get('access-control-max-age'), '600');
    assert.equal(preflight.headers.get('access-control-allow-credentials'), null);
    assert.equal(preflight.headers.get('vary'), 'Origin');

    const me = await http(base, 'GET', '/api/v1/users/@me', undefined, user.token, { headers: { origin: APP } });
    assert.equal(me.status, 200);
    assert.equal(me.headers.get('access-control-allow-origin'), APP);
    assert.equal(me.headers.get('access-control-expose-headers'), 'retry-after');
    const denied = await http(base, 'GET', '/api/v1/users/@me', undefined, undefined, { headers: { origin: APP } });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('access-control-allow-origin'), APP, 'the page can read the error');

    const otherPreflight = await http(base, 'OPTIONS', '/api/v1/channels/1/messages', undefined, undefined, {
      headers: { origin: OTHER, 'access-control-request-method': 'POST' },
    });
    assert.deepEqual(corsHeaders(otherPreflight.headers), []);
    const otherGet = await http(base, 'GET', '/api/v1/users/@me', undefined, user.token, {
      headers: { origin: OTHER },
    });
    assert.equal(otherGet.status, 200, 'not a server-side block: the browser keeps the answer from the page');
    assert.deepEqual(corsHeaders(otherGet.headers), []);
    assert.equal(otherGet.headers.get('vary'), 'Origin');
    const noOrigin = await http(base, 'GET', '/api/v1/users/@me', undefined, user.token);
    assert.deepEqual(corsHeaders(noOrigin.headers), []);
  });
});
