// Issue #12's hostile-input table, one test per row this suite covers: per-socket backpressure for
// every byte sent, socket caps per user and per address, per-client budgets behind a trusted proxy,
// failed authentication counted, own-property validation, malformed paths and oversized ids, bounded
// nonce records with TTLs on every key, and the RESUME horizon. Each test failed before its fix.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { RawClient } from './raw-client.js';
import { http, metric, type Stack, signUp, startStack, waitFor } from './stack.js';

const UNLIMITED = { RATE_BURST: '100000', RATE_FRAMES: '1000000', USER_RATE_REQUESTS: '1000000' };
/** Budgets are fixed windows: an hour-long one keeps a test's few seconds inside one window. */
const ONE_WINDOW = { RATE_WINDOW_MS: '3600000' };

/** Opens a WebSocket (from a 127.0.0.x source address) and resolves with 'open' or the status of a refused upgrade. */
function tryOpen(url: string, localAddress = '127.0.0.1'): Promise<{ ws: WebSocket; result: 'open' | number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress });
    ws.once('open', () => resolve({ ws, result: 'open' }));
    ws.once('unexpected-response', (_req, res) => resolve({ ws, result: res.statusCode ?? 0 }));
    ws.on('error', () => {});
  });
}

/** Stops reading a client's socket: the gateway's send buffer for it grows. */
function pause(c: RawClient): { resume(): void } {
  const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  return socket;
}

describe('hostile input: limits and budgets (issue #12)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ gateways: 0 });
  });
  after(async () => stack?.close());

  it('sockets that never read while requesting big history pages are closed 4008; their responses are not queued', async () => {
    const limit = 65_536;
    const gw = await stack.addGateway({
      ...UNLIMITED,
      HTTP_RATE_REQUESTS: '1000000',
      MAX_BACKPRESSURE_BYTES: String(limit),
      // Long grace: the close must come from the byte ceiling, not from the time over the limit.
      SLOW_CONSUMER_GRACE_MS: '600000',
    });
    const writer = await signUp(gw.url, 'bigwriter');
    const body = 'x'.repeat(3990);
    for (let i = 0; i < 100; i += 10)
      await Promise.all(
        Array.from({ length: 10 }, async (_, j) => {
          const res = await http(
            gw.url,
            'POST',
            '/api/channels/1/messages',
            { content: `${i + j} ${body}` },
            writer.token,
          );
          assert.equal(res.status, 201);
        }),
      );
    const readers = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const u = await signUp(gw.url, `nonreader${i}`);
        const c = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
        await c.identify(u.token);
        return c;
      }),
    );
    const requests = 100;
    const sockets = readers.map((c) => {
      const s = pause(c);
      for (let i = 0; i < requests; i++)
        c.send({ op: 20, d: { id: `h${i}`, method: 'history.get', params: { channel_id: '1', limit: 100 } } });
      return s;
    });
    await waitFor(
      async () => (await metric(gw.url, 'chat_gateway_closes_total{code="4008"}')) >= 3,
      'the gateway to close the three non-readers with 4008',
      60_000,
    );
    assert.ok(
      (await metric(gw.url, 'chat_gateway_buffered_bytes')) < 3 * limit,
      'nothing is left queued for the non-readers',
    );
    for (const s of sockets) s.resume();
    for (const c of readers) {
      const code = await c.closed(30_000);
      assert.ok(code === 4008 || code === 1006, `closed with ${code}`);
      const responses = c.frames.filter((f) => f.op === 21).length;
      assert.ok(responses < requests, `${responses} of ${requests} responses were queued for a socket that never read`);
    }
  });

  it('caps sockets not yet identified per address (HTTP 429) and identified sockets per user (close 4008)', async () => {
    const gw = await stack.addGateway({
      ...UNLIMITED,
      MAX_PENDING_SOCKETS_PER_ADDRESS: '20',
      MAX_SOCKETS_PER_USER: '10',
    });
    const url = `ws://127.0.0.1:${gw.port}/ws`;
    const pending = [];
    for (let i = 0; i < 30; i++) pending.push(await tryOpen(url));
    const results = pending.map((p) => p.result);
    assert.equal(results.filter((r) => r === 'open').length, 20, `results: ${results.join(',')}`);
    assert.ok(
      results.slice(20).every((r) => r === 429),
      `results: ${results.join(',')}`,
    );
    for (const p of pending) p.ws.terminate();
    await waitFor(async () => (await metric(gw.url, 'chat_gateway_connections')) === 0, 'the sockets to close');
    // Another address is not affected by this one's pending sockets.
    const other = await tryOpen(url, '127.0.0.2');
    assert.equal(other.result, 'open');
    other.ws.terminate();

    const user = await signUp(gw.url, 'manytabs');
    const tabs: RawClient[] = [];
    for (let i = 0; i < 10; i++) {
      const c = await RawClient.open(url);
      await c.identify(user.token);
      tabs.push(c);
    }
    const extra = await RawClient.open(url);
    extra.send({ op: 2, d: { token: user.token } });
    assert.equal(await extra.closed(), 4008);
    assert.ok(
      tabs.every((t) => t.closeCode === undefined),
      'the first ten stay',
    );
    tabs[0]!.close();
    await tabs[0]!.closed();
    await waitFor(async () => (await metric(gw.url, 'chat_gateway_connections')) === 9, 'one tab to close');
    const again = await RawClient.open(url);
    await again.identify(user.token);
    for (const t of [...tabs, again]) t.close();
  });

  it('caps identified sockets per address (high, for NAT) with HTTP 429 at the upgrade', async () => {
    const gw = await stack.addGateway({ ...UNLIMITED, MAX_SOCKETS_PER_ADDRESS: '5' });
    const url = `ws://127.0.0.1:${gw.port}/ws`;
    const clients: RawClient[] = [];
    for (let i = 0; i < 5; i++) {
      const u = await signUp(gw.url, `nat${i}`);
      const c = await RawClient.open(url);
      await c.identify(u.token);
      clients.push(c);
    }
    assert.equal((await tryOpen(url)).result, 429);
    const elsewhere = await tryOpen(url, '127.0.0.3');
    assert.equal(elsewhere.result, 'open');
    elsewhere.ws.terminate();
    for (const c of clients) c.close();
  });

  it('X-Real-IP is honoured only from TRUSTED_PROXIES; failed logins of one client do not lock out others', async () => {
    const gw = await stack.addGateway({
      HTTP_RATE_REQUESTS: '1000',
      LOGIN_RATE_REQUESTS: '5',
      TRUSTED_PROXIES: '127.0.0.1/32',
    });
    await signUp(gw.url, 'victim');
    // 127.0.0.1 plays the proxy (nginx); 127.0.0.2 is a client connecting directly.
    const login = async (localAddress: string, ip: string, username: string, password: string) =>
      (
        await http(gw.url, 'POST', '/api/sessions', { username, password }, undefined, {
          localAddress,
          headers: { 'x-real-ip': ip },
        })
      ).status;
    const attacker: number[] = [];
    for (let i = 0; i < 30; i++) attacker.push(await login('127.0.0.1', '203.0.113.66', 'victim', 'wrong password'));
    assert.ok(attacker.includes(429), `the attacker is limited: ${attacker.join(',')}`);
    assert.equal(
      await login('127.0.0.1', '203.0.113.67', 'victim', 'correct horse battery'),
      200,
      'the victim still logs in',
    );
    const reg = await http(
      gw.url,
      'POST',
      '/api/users',
      { username: 'newcomer', password: 'correct horse battery' },
      undefined,
      { headers: { 'x-real-ip': '203.0.113.68' } },
    );
    assert.equal(reg.status, 201, 'and others still sign up');
    // From a peer that is not a trusted proxy the header is ignored: a fresh X-Real-IP buys nothing.
    const spoofed: number[] = [];
    for (let i = 0; i < 12; i++) spoofed.push(await login('127.0.0.2', `198.51.100.${i}`, 'victim', 'wrong password'));
    assert.ok(spoofed.includes(429), `a spoofed header does not reset the budget: ${spoofed.join(',')}`);
  });

  it('sign-ups have a global budget and logins a per-address one (over many usernames)', async () => {
    // A stack of its own: the sign-up budget is global (per prefix), and other tests sign up too.
    const own = await startStack({ gateways: 0 });
    try {
      const gw = await own.addGateway({ ...ONE_WINDOW, SIGNUP_RATE_REQUESTS: '3', LOGIN_ADDRESS_RATE_REQUESTS: '6' });
      const signups: number[] = [];
      for (let i = 0; i < 5; i++) {
        const from = { localAddress: `127.0.0.${10 + i}` };
        const body = { username: `flood${i}`, password: 'correct horse battery' };
        signups.push((await http(gw.url, 'POST', '/api/users', body, undefined, from)).status);
      }
      assert.deepEqual(signups, [201, 201, 201, 429, 429], 'the budget is shared by every address');
      const logins: number[] = [];
      for (let i = 0; i < 8; i++) {
        const body = { username: `guess${i}`, password: 'wrong password' };
        logins.push(
          (await http(gw.url, 'POST', '/api/sessions', body, undefined, { localAddress: '127.0.0.20' })).status,
        );
      }
      assert.deepEqual(logins, [401, 401, 401, 401, 401, 401, 429, 429], 'a new username per try buys nothing');
      const other = { username: 'flood0', password: 'correct horse battery' };
      const elsewhere = await http(gw.url, 'POST', '/api/sessions', other, undefined, { localAddress: '127.0.0.21' });
      assert.equal(elsewhere.status, 200, 'another address logs in');
    } finally {
      await own.close();
    }
  });

  it('failed authentication (invalid tokens on HTTP and IDENTIFY) counts against a per-address budget', async () => {
    const gw = await stack.addGateway({ ...UNLIMITED, ...ONE_WINDOW, AUTH_FAILURE_BUDGET: '20' });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++)
      statuses.push((await http(gw.url, 'GET', '/api/users/@me', undefined, `bad${i}`)).status);
    assert.ok(
      statuses.slice(0, 20).every((s) => s === 401),
      `statuses: ${statuses.join(',')}`,
    );
    assert.ok(
      statuses.slice(20).every((s) => s === 429),
      `statuses: ${statuses.join(',')}`,
    );
    const c = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    c.send({ op: 2, d: { token: 'forged' } });
    assert.equal(await c.closed(), 4008, 'IDENTIFY from an address over its failure budget');
    // Another address still authenticates normally.
    const other = await http(gw.url, 'GET', '/api/users/@me', undefined, 'bad', { localAddress: '127.0.0.4' });
    assert.equal(other.status, 401);
  });

  it('validation uses own properties only, refuses malformed percent-encoding and ids that are not snowflakes', async () => {
    const gw = await stack.addGateway(UNLIMITED);
    const u = await signUp(gw.url, 'prototyper');
    for (const field of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      for (const path of ['/api/users', '/api/sessions']) {
        const body = `{"username":"proto_${field.replace(/_/g, '')}","password":"correct horse battery","${field}":"x"}`;
        const res = await http(gw.url, 'POST', path, body);
        assert.equal(res.status, 400, `${path} with a field "${field}" → ${res.status} ${JSON.stringify(res.body)}`);
      }
      const c = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
      await c.identify(u.token);
      const res = await c.request('history.get', JSON.parse(`{"channel_id":"1","${field}":"x"}`));
      assert.equal(res.error?.code, 'unknown_field', `history.get with "${field}"`);
      c.close();
    }
    const logsBefore = gw.logs.length;
    for (const [method, path] of [
      ['GET', '/api/channels/%FF/messages'],
      ['DELETE', '/api/channels/1/members/%C0'],
      ['GET', '/api/channels/%E0%A4%A/messages'],
      ['DELETE', '/api/channels/1/messages/%'],
    ] as const) {
      const res = await http(gw.url, method, path, undefined, u.token);
      assert.equal(res.status, 400, `${method} ${path} → ${res.status}`);
    }
    for (const q of ['99999999999999999999', '9223372036854775808', '18446744073709551615', '0123']) {
      const res = await http(gw.url, 'GET', `/api/channels/1/messages?before=${q}`, undefined, u.token);
      assert.equal(res.status, 400, `before=${q} → ${res.status}`);
      const path = await http(gw.url, 'GET', `/api/channels/${q}/messages`, undefined, u.token);
      assert.equal(path.status, 404, `/api/channels/${q}/messages names no channel → ${path.status}`);
    }
    assert.equal(
      (await http(gw.url, 'GET', '/api/channels/1/messages?before=9223372036854775807', undefined, u.token)).status,
      200,
    );
    const errors = gw.logs.slice(logsBefore).filter((l) => l.includes('"level":50'));
    assert.deepEqual(errors, [], 'no ERROR log line for bad input');
  });

  it('a nonce record holds the message id, scoped by channel, and every key the system writes has a TTL', async () => {
    const gw = await stack.addGateway(UNLIMITED);
    const a = await signUp(gw.url, 'noncer');
    const b = await signUp(gw.url, 'noncee');
    const dm = (await http(gw.url, 'POST', '/api/channels', { kind: 'dm', recipients: [b.id] }, a.token)).body;
    const content = `secret body ${'y'.repeat(3900)}`;
    const first = await http(gw.url, 'POST', '/api/channels/1/messages', { content, nonce: 'n-1' }, a.token);
    assert.equal(first.status, 201);
    const retry = await http(gw.url, 'POST', '/api/channels/1/messages', { content, nonce: 'n-1' }, a.token);
    assert.equal(retry.body.id, first.body.id, 'a retry with the same nonce returns the stored message');
    assert.equal(retry.body.content, content);
    const elsewhere = await http(
      gw.url,
      'POST',
      `/api/channels/${dm.id}/messages`,
      { content: 'hi', nonce: 'n-1' },
      a.token,
    );
    assert.equal(elsewhere.status, 201);
    assert.notEqual(elsewhere.body.id, first.body.id, 'the same nonce in another channel is another nonce');
    assert.equal(elsewhere.body.channel_id, dm.id);
    // Membership change (the cache's generation key) and a rate-limited request, so every kind of key exists.
    await http(gw.url, 'POST', `/api/channels/1/members`, { user_id: b.id }, a.token);
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      const keys = await redis.keys(`${stack.prefix}:*`);
      assert.ok(
        keys.some((k) => k.includes('nonce')),
        `a nonce key exists: ${keys.join(' ')}`,
      );
      assert.ok(
        keys.some((k) => k.endsWith(':gen')),
        `a generation key exists: ${keys.join(' ')}`,
      );
      for (const k of keys) {
        assert.ok((await redis.pttl(k)) > 0, `${k} has a TTL`);
        if (k.includes('nonce')) {
          const value = (await redis.get(k)) ?? '';
          assert.ok(!value.includes('secret body') && value.length < 200, `${k} holds ${value.length} bytes`);
        }
      }
    } finally {
      redis.disconnect();
    }
  });

  it('RESUME from before the horizon is truncated, and RESUME counts against the rate limit', async () => {
    const gw = await stack.addGateway({ ...ONE_WINDOW, RESUME_HORIZON_MS: '60000', USER_RATE_REQUESTS: '5' });
    const u = await signUp(gw.url, 'resumer');
    const c = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    c.send({ op: 6, d: { token: u.token, since: '0' } });
    const resumed = await c.next((f) => f.t === 'RESUMED');
    assert.equal(resumed.d.truncated, true, 'since older than the horizon');
    assert.equal(resumed.d.replayed, 0, 'nothing is scanned from before the horizon');
    c.close();
    const codes: Array<number | 'open'> = [];
    for (let i = 0; i < 8; i++) {
      const r = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
      r.send({ op: 6, d: { token: u.token, since: '0' } });
      await Promise.race([r.next((f) => f.t === 'RESUMED').then(() => r.close()), r.closed()]);
      codes.push(r.closeCode === 4008 ? 4008 : 'open');
    }
    assert.ok(codes.includes(4008), `RESUME is rate limited: ${codes.join(',')}`);
  });
});
