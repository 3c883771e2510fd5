import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack } from './stack.js';

/** Deterministic pseudo-random generator, so a failing case can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('hostile input', () => {
  let stack: Stack;
  let wsUrl: string;
  let token: string;
  let malloryId: string;
  let channelId: string;
  before(async () => {
    // Limits raised so that the barrage itself is not rate limited (limits have their own test).
    stack = await startStack({
      gateways: 1,
      gatewayEnv: { RATE_BURST: '100000', RATE_FRAMES: '1000000', USER_RATE_REQUESTS: '1000000' },
    });
    const gw = stack.gateways[0]!;
    wsUrl = `ws://127.0.0.1:${gw.port}/ws`;
    const u = await signUp(gw.url, 'mallory');
    token = u.token;
    malloryId = u.id;
    channelId = '1'; // the default group everyone joins
  });
  after(async () => stack?.close());

  it('answers at least 500 generated bad frames and requests with the documented code, stays up, and bystanders see nothing change', async () => {
    const gw = stack.gateways[0]!;
    const bystanderUser = await signUp(gw.url, 'bystander');
    const bystander = await RawClient.open(wsUrl);
    await bystander.identify(bystanderUser.token);
    const framesBefore = bystander.frames.length;

    const random = rng(1234);
    // 1. Frames that end the connection, each on a fresh connection: [frame, expected close code].
    const closing: Array<[string | Buffer, number, string]> = [];
    for (let i = 0; i < 120; i++) {
      const junk = Array.from({ length: 1 + Math.floor(random() * 40) }, () =>
        String.fromCharCode(32 + Math.floor(random() * 94)),
      ).join('');
      closing.push([`{${junk}`, 4002, 'invalid JSON']);
    }
    for (const v of ['1', '"op"', 'null', '[]', '[{"op":2}]', 'true', '"{}"']) closing.push([v, 4002, 'not an object']);
    for (const op of ['"1"', '1.5', 'null', '{}', '[]', 'true'])
      closing.push([`{"op":${op}}`, 4002, 'op not an integer']);
    closing.push(['{"d":{}}', 4002, 'no op']);
    for (const op of [3, 4, 5, 8, 12, 13, 19, 22, 99, -1, 2 ** 31, 2 ** 53])
      closing.push([`{"op":${op},"d":null}`, 4001, 'unknown op']);
    for (let i = 0; i < 10; i++) closing.push([`{"op":1,"d":"${'x'.repeat(16_384 + i * 1000)}"}`, 4010, 'oversize']);
    for (let i = 0; i < 10; i++) closing.push([Buffer.from([0x7b, 0xff, 0xfe, i]), 4002, 'binary']);
    for (const m of ['message.create', 'history.get', 'typing.start'])
      closing.push([
        JSON.stringify({ op: 20, d: { id: 'x', method: m, params: { channel_id: channelId } } }),
        4003,
        'request before IDENTIFY',
      ]);
    for (const d of [null, {}, { token: 5 }, { token: null }, 'token', []])
      closing.push([JSON.stringify({ op: 2, d }), 4002, 'IDENTIFY without a token']);
    for (const t of [
      'nope',
      'a.b.c',
      `${token}x`,
      // Another last character (one in 16 signatures already ends in 'A': that "forgery" was the real token).
      token.slice(0, -1) + (token.endsWith('A') ? 'E' : 'A'),
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.',
      'x'.repeat(5000),
    ]) {
      closing.push([JSON.stringify({ op: 2, d: { token: t } }), 4004, 'forged token']);
    }
    for (const since of ['abc', '-1', '99999999999999999999999', '1.5', 5, null, ''])
      closing.push([JSON.stringify({ op: 6, d: { token, since } }), 4002, 'RESUME with a bad since']);
    for (const d of [
      { id: 5, method: 'history.get' },
      { method: 'history.get' },
      { id: '', method: 'x' },
      { id: 'y'.repeat(65), method: 'x' },
      null,
      'req',
    ]) {
      closing.push([JSON.stringify({ op: 20, d }), 4002, 'REQUEST without a usable id']);
    }

    let checked = 0;
    // Requests that need an identified connection are marked by expected code ≥ 4002 with an IDENTIFY first.
    const needsIdentify = (label: string) => label === 'REQUEST without a usable id';
    for (const [payload, expected, label] of closing) {
      const c = await RawClient.open(wsUrl);
      if (needsIdentify(label)) await c.identify(token);
      if (Buffer.isBuffer(payload)) c.ws.send(payload, { binary: true });
      else c.send(payload);
      const code = await c.closed();
      assert.equal(code, expected, `${label}: ${String(payload).slice(0, 80)} → ${code} ${c.closeReason}`);
      checked++;
    }
    // Invalid UTF-8 in a text frame breaks RFC 6455 itself: uWebSockets.js fails the connection at the
    // WebSocket layer before our code sees the frame (the client observes 1006, or 1007 from other stacks).
    for (let i = 0; i < 5; i++) {
      const c = await RawClient.open(wsUrl);
      c.ws.send(Buffer.from([0x7b, 0x22, 0x6f, 0xc3, 0x28, 0xa0 + i]), { binary: false });
      const code = await c.closed();
      assert.ok(code === 1006 || code === 1007 || code === 4002, `invalid UTF-8 → ${code}`);
      checked++;
    }
    // IDENTIFY twice.
    {
      const c = await RawClient.open(wsUrl);
      await c.identify(token);
      c.send({ op: 2, d: { token } });
      assert.equal(await c.closed(), 4005);
      checked++;
    }

    // 2. Bad requests on one identified connection: each answered with a RESPONSE error, connection kept.
    const c = await RawClient.open(wsUrl);
    await c.identify(token);
    const badRequests: Array<[string, unknown, string]> = [];
    for (let i = 0; i < 40; i++) badRequests.push([`no.such.method.${i}`, {}, 'invalid_request']);
    const injections = [
      '{"$gt":""}',
      "1' OR '1'='1",
      '1; DROP TABLE messages',
      '../../etc/passwd',
      '<script>alert(1)</script>',
      '${jndi:ldap://x}',
      '\u0000',
      '1e10',
      '0x10',
      ' 1',
    ];
    for (const inj of injections) {
      badRequests.push(['message.create', { channel_id: inj, content: 'x' }, 'invalid_request']);
      badRequests.push(['history.get', { channel_id: inj }, 'invalid_request']);
      badRequests.push(['typing.start', { channel_id: inj }, 'invalid_request']);
      badRequests.push(['message.delete', { channel_id: channelId, message_id: inj }, 'invalid_request']);
    }
    for (const v of [{ $gt: '' }, ['1'], 1, null, true]) {
      badRequests.push(['message.create', { channel_id: v, content: 'x' }, 'invalid_request']);
      badRequests.push(['message.create', { channel_id: channelId, content: v }, 'invalid_request']);
    }
    for (const v of [{ $gt: '' }, ['1'], '5', true, 1.5])
      badRequests.push(['history.get', { channel_id: channelId, limit: v }, 'invalid_request']);
    // Ids are snowflakes: below 2^63, no leading zeros.
    for (const huge of [
      '9223372036854775808',
      '18446744073709551615',
      '99999999999999999999999',
      '1'.repeat(30),
      '01',
    ]) {
      badRequests.push(['message.create', { channel_id: huge, content: 'x' }, 'invalid_request']);
      badRequests.push(['history.get', { channel_id: channelId, before: huge }, 'invalid_request']);
    }
    for (const id of ['9223372036854775807', '2', '12345678901234567']) {
      badRequests.push(['message.create', { channel_id: id, content: 'x' }, 'not_a_member']);
      badRequests.push(['history.get', { channel_id: id }, 'not_a_member']);
      badRequests.push(['message.update', { channel_id: channelId, message_id: id, content: 'x' }, 'not_found']);
    }
    for (const content of ['', '   ', '\n\t'])
      badRequests.push(['message.create', { channel_id: channelId, content }, 'invalid_request']);
    badRequests.push(['message.create', { channel_id: channelId, content: 'x'.repeat(4001) }, 'payload_too_large']);
    badRequests.push(['message.create', { channel_id: channelId, content: '😀'.repeat(4001) }, 'payload_too_large']);
    badRequests.push([
      'message.create',
      { channel_id: channelId, content: 'x', nonce: 'n'.repeat(65) },
      'invalid_request',
    ]);
    badRequests.push(['message.create', { channel_id: channelId, content: 'x', extra: 1 }, 'unknown_field']);
    badRequests.push(['message.create', 'params', 'invalid_request']);
    badRequests.push(['history.get', { channel_id: channelId, limit: 0 }, 'invalid_request']);
    badRequests.push(['history.get', { channel_id: channelId, limit: 101 }, 'invalid_request']);
    badRequests.push(['history.get', { channel_id: channelId, limit: 2.5 }, 'invalid_request']);
    for (let i = 0; i < 200; i++) {
      const field = ['channel_id', 'content', 'nonce', 'message_id', 'limit'][Math.floor(random() * 5)]!;
      const value = [random() * 1e9, `${random()}`, { a: random() }, [random()], false][Math.floor(random() * 5)];
      const method = ['message.create', 'history.get', 'message.update', 'message.delete', 'typing.start'][
        Math.floor(random() * 5)
      ]!;
      badRequests.push([method, { [field]: value, bogus_field: true }, 'unknown_field']);
    }
    for (const [method, params, expected] of badRequests) {
      const res = await c.request(method, params);
      assert.equal(res.ok, false, `${method} ${JSON.stringify(params).slice(0, 80)} should fail`);
      assert.equal(
        res.error.code,
        expected,
        `${method} ${JSON.stringify(params).slice(0, 80)}: ${res.error.code} ${res.error.message}`,
      );
      checked++;
    }
    assert.equal(c.closeCode, undefined, 'bad requests do not close the connection');

    // 3. Bad HTTP requests.
    const bad: Array<[string, string, unknown, string | undefined, number]> = [
      ['POST', '/api/users', '{not json', undefined, 400],
      ['POST', '/api/users', { username: 'x' }, undefined, 400],
      ['POST', '/api/users', { username: 'valid_name', password: 'long enough pw', admin: true }, undefined, 400],
      ['POST', '/api/users', { username: { $gt: '' }, password: 'long enough pw' }, undefined, 400],
      ['POST', '/api/users', { username: "x' OR 1=1", password: 'long enough pw' }, undefined, 400],
      ['POST', '/api/sessions', { username: { $ne: null }, password: { $ne: null } }, undefined, 400],
      ['POST', '/api/sessions', { username: 'mallory', password: 'wrong password' }, undefined, 401],
      ['GET', '/api/users/@me', undefined, undefined, 401],
      ['GET', '/api/users/@me', undefined, 'garbage', 401],
      ['GET', `/api/channels/${channelId}/messages?limit=1000`, undefined, token, 400],
      ['GET', `/api/channels/${channelId}/messages?before=abc`, undefined, token, 400],
      ['GET', `/api/channels/${channelId}/messages?foo=1`, undefined, token, 400],
      ['GET', '/api/channels/2/messages', undefined, token, 403],
      ['GET', '/api/channels/..%2F..%2Fetc/messages', undefined, token, 404],
      ['POST', `/api/channels/${channelId}/messages`, { content: 'x'.repeat(4001) }, token, 413],
      ['POST', `/api/channels/${channelId}/messages`, 'x'.repeat(70_000), token, 413],
      ['PUT', '/api/users', {}, undefined, 405],
      ['GET', '/api/nothing-here', undefined, undefined, 404],
    ];
    for (const [method, path, body, tok, status] of bad) {
      const res = await http(gw.url, method, path, body, tok);
      assert.equal(res.status, status, `${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(typeof res.body?.code, 'string', `${method} ${path} answers {code, message}`);
      checked++;
    }

    assert.ok(checked >= 500, `only ${checked} bad inputs were checked`);
    // Still up, and a bystander saw nothing but what it should.
    assert.equal((await http(gw.url, 'GET', '/healthz')).status, 200);
    assert.equal(bystander.closeCode, undefined);
    const during = bystander.frames.slice(framesBefore);
    const unexpected = during.filter((f) => f.op !== 11 && f.t !== 'TYPING_START' && f.t !== 'PRESENCE_UPDATE');
    assert.deepEqual(unexpected, [], 'the bystander received nothing from the barrage');
    // Mallory is in the bystander's (small) default group, so the bystander hears mallory come online; the
    // barrage's hundreds of connects and closes do not flap it (offline grace, first/last socket only).
    const presence = during.filter((f) => f.t === 'PRESENCE_UPDATE');
    assert.ok(
      presence.every((f) => f.d.user_id === malloryId),
      'presence of nobody but mallory',
    );
    assert.ok(presence.length <= 2, `${presence.length} presence updates for hundreds of connects`);
    const sent = await c.request('message.create', { channel_id: channelId, content: '<script>alert(1)</script>' });
    assert.equal(sent.ok, true);
    assert.equal(sent.result.content, '<script>alert(1)</script>', 'stored literally, never interpreted');
    const got = await bystander.next((f) => f.t === 'MESSAGE_CREATE' && f.d.id === sent.result.id);
    assert.equal(got.d.content, '<script>alert(1)</script>');
    c.close();
    bystander.close();
  });
});
