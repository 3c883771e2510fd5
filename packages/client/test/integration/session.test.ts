// The WebSocket session against a scripted protocol peer (see fake-server.ts for why a fake):
// HELLO/IDENTIFY/READY, heartbeats, reconnect and RESUME, close codes, requests, de-duplication.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { slotOf } from '@chat/protocol';
import { WebSocket as WsWebSocket } from 'ws';
import {
  AuthenticationFailedError,
  ChatRequestError,
  ClientClosedError,
  ConnectionLostError,
  type ConnectionState,
  createClient,
  NotAuthenticatedError,
  ProtocolError,
  RequestTimeoutError,
  type WebSocketConstructor,
} from '../../src/index.js';
import { startFakeServer } from './fake-server.js';
import { ALICE, acceptIdentify, connected, fixture, GENERAL, message, nextEvent, record, waitFor } from './helpers.js';

/** Snowflake ids `ms` milliseconds apart, from the protocol's test vector (2026-01-01, worker 5, seq 7). */
// Ids a minute ahead of now: newer than the READY moment, which the client also counts as seen.
const ID_BASE = BigInt(Date.now() + 60_000 - 1_704_067_200_000) << 22n;
function idAt(ms: number): string {
  return (ID_BASE + (BigInt(ms) << 22n)).toString();
}

describe('connecting', () => {
  it('connect() sends IDENTIFY with the token after HELLO and resolves with the READY payload', async (t) => {
    const f = await fixture(t);
    const states = record(f.client, 'state');
    const ready = f.client.connect();
    const peer = await f.server.nextConnection();
    assert.equal(peer.url.pathname, '/ws');
    assert.equal(peer.url.searchParams.get('slot'), null, 'no slot hint while the user id is unknown');
    peer.hello(60_000, 'gw-7');
    const identify = await peer.next(2);
    assert.deepEqual(identify.d, { token: 'token-alice' });
    peer.dispatch('READY', { user: ALICE, channels: [GENERAL], session_id: 'session-1' });
    const payload = await ready;
    assert.deepEqual(payload, { user: ALICE, channels: [GENERAL], session_id: 'session-1' });
    assert.equal(f.client.state, 'open');
    assert.deepEqual(f.client.user, ALICE);
    assert.equal(f.client.sessionId, 'session-1');
    assert.equal(f.client.serverId, 'gw-7');
    assert.equal(f.client.sequence, 1);
    assert.deepEqual(
      states.map(([s]) => s),
      ['connecting', 'open'],
    );
    assert.deepEqual(await f.client.connect(), payload, 'connect() while open returns the READY payload');
  });

  it('the WebSocket URL carries ?slot=slotOf(userId) once the user id is known', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    peer.close(4000, 'unknown error');
    const second = await f.server.nextConnection();
    assert.equal(second.url.searchParams.get('slot'), String(slotOf(ALICE.id)));
  });

  it('after login() the first connection already carries the slot hint and IDENTIFYs with the new token', async (t) => {
    const f = await fixture(t, { token: null });
    f.server.onHttp = () => ({ status: 200, body: { token: 'jwt-2', user: ALICE } });
    await f.client.login('alice', 'secret');
    const ready = f.client.connect();
    const peer = await f.server.nextConnection();
    assert.equal(peer.url.searchParams.get('slot'), String(slotOf(ALICE.id)));
    peer.hello();
    assert.deepEqual((await peer.next(2)).d, { token: 'jwt-2' });
    peer.dispatch('READY', { user: ALICE, channels: [], session_id: 's' });
    await ready;
  });

  it('connect() without a token rejects with NotAuthenticatedError and opens nothing', async (t) => {
    const f = await fixture(t, { token: null });
    await assert.rejects(f.client.connect(), NotAuthenticatedError);
    await sleep(30);
    assert.equal(f.server.connections.length, 0);
    assert.equal(f.client.state, 'closed');
  });

  it('a first connection attempt that fails rejects connect() and does not retry', async (t) => {
    const server = await startFakeServer();
    const baseUrl = server.baseUrl;
    await server.close();
    const client = createClient({ baseUrl, token: 'x', reconnect: { initialDelayMs: 5, maxDelayMs: 10 } });
    t.after(() => client.close());
    await assert.rejects(client.connect(), ConnectionLostError);
    assert.equal(client.state, 'closed');
  });

  it('an injected WebSocket constructor is the one used', async (t) => {
    let constructed = 0;
    const Counting = class extends WsWebSocket {
      constructor(url: string) {
        super(url);
        constructed += 1;
      }
    };
    const f = await fixture(t, { WebSocket: Counting as unknown as WebSocketConstructor });
    await connected(f);
    assert.equal(constructed, 1);
  });

  it('a 4004 close during IDENTIFY rejects connect() with AuthenticationFailedError', async (t) => {
    const f = await fixture(t);
    const ready = f.client.connect();
    const peer = await f.server.nextConnection();
    peer.hello();
    await peer.next(2);
    peer.close(4004, 'authentication failed');
    await assert.rejects(ready, AuthenticationFailedError);
    assert.equal(f.client.state, 'closed');
  });
});

describe('heartbeats', () => {
  it('heartbeats carry the last sequence number every heartbeat_interval', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f, 40);
    const s = peer.dispatch('MESSAGE_CREATE', message(idAt(0)));
    const beat = await peer.next(1);
    assert.equal(beat.d, s);
    const start = Date.now();
    await peer.next(1);
    assert.ok(Date.now() - start >= 25, 'beats are spaced by the interval');
    await waitFor(() => f.client.latencyMs !== null, 1000, 'a measured latency');
  });

  it('a HEARTBEAT_ACK that does not arrive before the next beat makes the client reconnect with RESUME', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f, 40);
    peer.dispatch('MESSAGE_CREATE', message(idAt(0)));
    await peer.next(1);
    peer.autoAck = false;
    await peer.next(1);
    const closed = await peer.closed;
    assert.equal(closed.code, 4000, 'the client closes the dead connection itself');
    const second = await f.server.nextConnection();
    second.hello();
    const resume = await second.next(6);
    assert.deepEqual(Object.keys(resume.d as object).sort(), ['since', 'token']);
  });

  it('a HEARTBEAT from the server is answered at once', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    peer.send({ op: 1, d: null });
    const beat = await peer.next(1, 500);
    assert.equal(beat.d, 1);
  });
});

describe('reconnect and RESUME', () => {
  it('a 4008 close makes the client RESUME with since = highest id seen minus the margin, and replays are de-duplicated', async (t) => {
    const f = await fixture(t, { resumeMarginMs: 10_000 });
    const created = record(f.client, 'messageCreate');
    const states = record(f.client, 'state');
    const peer = await connected(f);
    // Two channels, delivered out of id order: the highest id is not the last one delivered.
    const high = idAt(5_000);
    const low = idAt(4_000);
    peer.dispatch('MESSAGE_CREATE', message(high, 'hi', '3001'));
    peer.dispatch('MESSAGE_CREATE', message(low, 'lo', '3002'));
    await waitFor(() => created.length === 2);
    assert.equal(f.client.lastSeenId, high);
    peer.close(4008, 'slow consumer');

    const second = await f.server.nextConnection();
    second.hello();
    const resume = await second.next(6);
    const since = (BigInt(high) - (10_000n << 22n)).toString();
    assert.deepEqual(resume.d, { token: 'token-alice', since });
    assert.equal(f.client.state, 'reconnecting');
    const missed = idAt(4_500);
    second.dispatch('MESSAGE_CREATE', message(low, 'lo', '3002'));
    second.dispatch('MESSAGE_CREATE', message(missed, 'missed', '3001'));
    second.dispatch('MESSAGE_CREATE', message(high, 'hi', '3001'));
    const resumed = nextEvent(f.client, 'resumed');
    const presences = [{ user_id: '1002', status: 'online' }];
    second.dispatch('RESUMED', { replayed: 3, truncated: false, presences });
    assert.deepEqual(await resumed, [{ replayed: 3, truncated: false, presences }], 'presence as of RESUMED');
    const presence = nextEvent(f.client, 'presenceUpdate');
    second.dispatch('PRESENCE_UPDATE', { user_id: '1002', status: 'offline' });
    assert.deepEqual(await presence, [{ user_id: '1002', status: 'offline' }]);
    assert.deepEqual(
      created.map(([m]) => m.content),
      ['hi', 'lo', 'missed'],
    );
    assert.equal(f.client.state, 'open');
    assert.deepEqual(
      states.map(([s]) => s),
      ['connecting', 'open', 'reconnecting', 'open'],
    );
  });

  it('RESUMED with truncated: true is passed on so that the app pages history', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    peer.dispatch('MESSAGE_CREATE', message(idAt(0)));
    await waitFor(() => f.client.lastSeenId !== null);
    peer.terminate();
    const second = await f.server.nextConnection();
    second.hello();
    await second.next(6);
    const resumed = nextEvent(f.client, 'resumed');
    second.dispatch('RESUMED', { replayed: 1000, truncated: true });
    assert.deepEqual(await resumed, [{ replayed: 1000, truncated: true }]);
  });

  it('a reconnect before any message was seen RESUMEs from the READY moment minus the margin', async (t) => {
    const f = await fixture(t);
    const readyAt = Date.now();
    const peer = await connected(f);
    peer.close(4009, 'session timed out');
    const second = await f.server.nextConnection();
    second.hello();
    const resume = await second.next(6);
    // since = first id of the READY millisecond − 10 s: messages sent while disconnected are replayed.
    const sinceMs = Number(BigInt((resume.d as { since: string }).since) >> 22n) + 1_704_067_200_000;
    assert.ok(Math.abs(sinceMs - (readyAt - 10_000)) < 2000, `since is ${readyAt - 10_000 - sinceMs} ms off`);
    second.dispatch('RESUMED', { replayed: 0, truncated: false });
    await nextEvent(f.client, 'state', (s) => s === 'open');
  });

  it('a RECONNECT op makes the client reconnect and RESUME', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    peer.dispatch('MESSAGE_CREATE', message(idAt(0)));
    await waitFor(() => f.client.lastSeenId !== null);
    peer.send({ op: 7, d: null });
    const closed = await peer.closed;
    assert.equal(closed.code, 4000);
    const second = await f.server.nextConnection();
    second.hello();
    const resume = await second.next(6);
    assert.equal((resume.d as { since: string }).since, (BigInt(idAt(0)) - (10_000n << 22n)).toString());
    second.dispatch('RESUMED', { replayed: 0, truncated: false });
    await nextEvent(f.client, 'state', (s) => s === 'open');
  });

  it('a 4004 close after the session was open emits an error and does not reconnect', async (t) => {
    const f = await fixture(t);
    const errors = record(f.client, 'error');
    const peer = await connected(f);
    peer.close(4004, 'authentication failed');
    await nextEvent(f.client, 'state', (s) => s === 'closed');
    await sleep(100);
    assert.equal(f.server.connections.length, 1, 'no new connection');
    assert.equal(errors.length, 1);
    assert.ok(errors[0]![0] instanceof AuthenticationFailedError);
  });

  it('a client-bug close code (4002) emits a ProtocolError and reconnects with a fresh IDENTIFY', async (t) => {
    const f = await fixture(t);
    const errors = record(f.client, 'error');
    const peer = await connected(f);
    peer.dispatch('MESSAGE_CREATE', message(idAt(0)));
    await waitFor(() => f.client.lastSeenId !== null);
    peer.close(4002, 'decode error');
    const second = await f.server.nextConnection();
    second.hello();
    const identify = await second.next(2);
    assert.deepEqual(identify.d, { token: 'token-alice' });
    assert.equal(errors.length, 1);
    const err = errors[0]![0];
    assert.ok(err instanceof ProtocolError);
    assert.equal(err.closeCode, 4002);
  });

  it('INVALID_SESSION in answer to RESUME makes the client IDENTIFY on the same connection', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    peer.dispatch('MESSAGE_CREATE', message(idAt(0)));
    await waitFor(() => f.client.lastSeenId !== null);
    peer.terminate();
    const second = await f.server.nextConnection();
    second.hello();
    await second.next(6);
    second.send({ op: 9, d: { reason: 'since too old' } });
    const identify = await second.next(2);
    assert.deepEqual(identify.d, { token: 'token-alice' });
    const ready = nextEvent(f.client, 'ready');
    second.dispatch('READY', { user: ALICE, channels: [], session_id: 'session-2' });
    await ready;
    assert.equal(f.client.sessionId, 'session-2');
    assert.equal(f.server.connections.length, 2);
  });

  it('reconnect attempts back off while the server refuses to complete the handshake', async (t) => {
    const f = await fixture(t, { reconnect: { initialDelayMs: 20, maxDelayMs: 80, jitter: 0 } });
    const peer = await connected(f);
    const start = Date.now();
    peer.terminate();
    for (let i = 0; i < 3; i++) (await f.server.nextConnection()).terminate();
    await f.server.nextConnection();
    // Delays 20 + 40 + 80 + 80 before the fifth connection.
    assert.ok(Date.now() - start >= 200, `took ${Date.now() - start} ms`);
  });

  it('close() closes with 1000 and the client does not reconnect', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    const states: ConnectionState[] = [];
    f.client.on('state', (s) => states.push(s));
    await f.client.close();
    assert.equal((await peer.closed).code, 1000);
    await sleep(50);
    assert.equal(f.server.connections.length, 1);
    assert.deepEqual(states, ['closed']);
    await assert.rejects(f.client.request('typing.start', { channel_id: GENERAL.id }), ClientClosedError);
  });
});

describe('requests', () => {
  it('request() resolves with the RESPONSE result', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    const pending = f.client.getHistory(GENERAL.id, { before: idAt(10), limit: 2 });
    const req = await peer.next(20);
    const d = req.d as { id: string; method: string; params: unknown };
    assert.equal(d.method, 'history.get');
    assert.deepEqual(d.params, { channel_id: GENERAL.id, before: idAt(10), limit: 2 });
    const messages = [message(idAt(2)), message(idAt(1))];
    peer.respond(d.id, messages);
    assert.deepEqual(await pending, messages);
  });

  it('a RESPONSE with ok: false rejects with ChatRequestError carrying the code and message', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    const pending = f.client.edit(GENERAL.id, idAt(1), 'new');
    const req = await peer.next(20);
    peer.respondError((req.d as { id: string }).id, 'forbidden', 'not the author');
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof ChatRequestError);
      assert.equal(err.code, 'forbidden');
      assert.equal(err.message, 'not the author');
      assert.equal(err.method, 'message.update');
      return true;
    });
  });

  it('a request without a RESPONSE rejects with RequestTimeoutError after its timeout, and a late answer is ignored', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    const start = Date.now();
    const pending = f.client.request('typing.start', { channel_id: GENERAL.id }, { timeoutMs: 100 });
    const req = await peer.next(20);
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof RequestTimeoutError);
      assert.equal(err.retryable, true);
      assert.deepEqual(err.request, { method: 'typing.start', params: { channel_id: GENERAL.id } });
      return true;
    });
    assert.ok(Date.now() - start >= 95);
    peer.respond((req.d as { id: string }).id, null);
    await sleep(20);
    assert.equal(f.client.state, 'open');
  });

  it('a request issued while reconnecting is sent once the session has resumed', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    peer.dispatch('MESSAGE_CREATE', message(idAt(0)));
    await waitFor(() => f.client.lastSeenId !== null);
    peer.terminate();
    await nextEvent(f.client, 'state', (s) => s === 'reconnecting');
    const pending = f.client.typing(GENERAL.id);
    const second = await f.server.nextConnection();
    second.hello();
    await second.next(6);
    await sleep(20);
    assert.equal(second.received.filter((fr) => fr.op === 20).length, 0, 'not sent before RESUMED');
    second.dispatch('RESUMED', { replayed: 0, truncated: false });
    const req = await second.next(20);
    second.respond((req.d as { id: string }).id, null);
    await pending;
  });

  it('a request in flight when the connection drops fails with a retryable ConnectionLostError', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    const pending = f.client.edit(GENERAL.id, idAt(1), 'x');
    await peer.next(20);
    peer.close(4000, 'unknown error');
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof ConnectionLostError);
      assert.equal(err.retryable, true);
      assert.equal(err.request?.method, 'message.update');
      return true;
    });
  });

  it('send() generates a nonce and sends the same request again after the connection drops', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    peer.dispatch('MESSAGE_CREATE', message(idAt(0)));
    const sent = f.client.send(GENERAL.id, 'hello');
    const first = await peer.next(20);
    const p1 = (first.d as { params: { channel_id: string; content: string; nonce: string } }).params;
    assert.equal(p1.channel_id, GENERAL.id);
    assert.equal(p1.content, 'hello');
    assert.match(p1.nonce, /^[0-9a-f]{32}$/);
    peer.terminate();
    const second = await f.server.nextConnection();
    second.hello();
    await second.next(6);
    second.dispatch('RESUMED', { replayed: 0, truncated: false });
    const again = await second.next(20);
    const d2 = again.d as { id: string; params: { nonce: string } };
    assert.equal(d2.params.nonce, p1.nonce, 'the retry reuses the nonce');
    const stored = { ...message(idAt(20), 'hello'), nonce: p1.nonce };
    second.respond(d2.id, stored);
    assert.deepEqual(await sent, stored);
  });

  it('send() uses the nonce it is given', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    const sent = f.client.send(GENERAL.id, 'hi', { nonce: 'my-nonce' });
    const req = await peer.next(20);
    const d = req.d as { id: string; params: { nonce: string } };
    assert.equal(d.params.nonce, 'my-nonce');
    peer.respond(d.id, message(idAt(1), 'hi'));
    await sent;
  });
});

describe('events', () => {
  it('a MESSAGE_CREATE delivered twice is emitted once, while dispatch sees both', async (t) => {
    const f = await fixture(t);
    const created = record(f.client, 'messageCreate');
    const raw = record(f.client, 'dispatch');
    const peer = await connected(f);
    const m = message(idAt(1), 'once');
    peer.dispatch('MESSAGE_CREATE', m);
    peer.dispatch('MESSAGE_CREATE', m);
    peer.dispatch('TYPING_START', { channel_id: GENERAL.id, user_id: '1002' });
    await waitFor(() => raw.filter(([tt]) => tt === 'TYPING_START').length === 1);
    assert.deepEqual(created, [[m]]);
    assert.equal(raw.filter(([tt]) => tt === 'MESSAGE_CREATE').length, 2);
  });

  it('an edit and a delete are each emitted once however often they are delivered', async (t) => {
    const f = await fixture(t);
    const updated = record(f.client, 'messageUpdate');
    const deleted = record(f.client, 'messageDelete');
    const peer = await connected(f);
    const id = idAt(1);
    peer.dispatch('MESSAGE_CREATE', message(id, 'v1'));
    const edit = message(id, 'v2', GENERAL.id, '2026-01-01T00:00:01.000Z');
    peer.dispatch('MESSAGE_UPDATE', edit);
    peer.dispatch('MESSAGE_UPDATE', edit);
    peer.dispatch('MESSAGE_DELETE', { id, channel_id: GENERAL.id });
    peer.dispatch('MESSAGE_DELETE', { id, channel_id: GENERAL.id });
    peer.dispatch('MESSAGE_UPDATE', edit);
    const end = nextEvent(f.client, 'typingStart');
    peer.dispatch('TYPING_START', { channel_id: GENERAL.id, user_id: '1002' });
    await end;
    assert.deepEqual(updated, [[edit]]);
    assert.deepEqual(deleted, [[{ id, channel_id: GENERAL.id }]]);
  });

  it('a RESUME replay that carries an edit missed while away is emitted as messageUpdate', async (t) => {
    const f = await fixture(t);
    const created = record(f.client, 'messageCreate');
    const updated = record(f.client, 'messageUpdate');
    const peer = await connected(f);
    const id = idAt(1);
    peer.dispatch('MESSAGE_CREATE', message(id, 'v1'));
    await waitFor(() => created.length === 1);
    peer.terminate();
    const second = await f.server.nextConnection();
    second.hello();
    await second.next(6);
    // The store replays a message created after `since` as one create with its current content.
    const current = message(id, 'v2', GENERAL.id, '2026-01-01T00:00:03.000Z');
    second.dispatch('MESSAGE_CREATE', current);
    second.dispatch('RESUMED', { replayed: 1, truncated: false });
    await nextEvent(f.client, 'state', (s) => s === 'open');
    assert.equal(created.length, 1);
    assert.deepEqual(updated, [[current]]);
  });

  it('the other dispatch events are emitted under their camelCase names', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    const events = [
      ['TYPING_START', 'typingStart', { channel_id: GENERAL.id, user_id: '1002' }],
      ['CHANNEL_CREATE', 'channelCreate', { id: '3009', kind: 'dm', name: null }],
      ['CHANNEL_MEMBER_ADD', 'channelMemberAdd', { channel_id: GENERAL.id, user_id: '1003' }],
      ['CHANNEL_MEMBER_REMOVE', 'channelMemberRemove', { channel_id: GENERAL.id, user_id: '1003' }],
      ['PRESENCE_UPDATE', 'presenceUpdate', { user_id: '1002', status: 'online' }],
    ] as const;
    for (const [wire, name, d] of events) {
      const got = nextEvent(f.client, name);
      peer.dispatch(wire, d);
      assert.deepEqual(await got, [d]);
    }
  });

  it('an undecodable frame emits a ProtocolError and the session stays open', async (t) => {
    const f = await fixture(t);
    const peer = await connected(f);
    const err = nextEvent(f.client, 'error');
    peer.send('{not json');
    const [e] = await err;
    assert.ok(e instanceof ProtocolError);
    assert.equal(f.client.state, 'open');
  });
});
