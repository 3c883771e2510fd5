// SocketSession through its ports: an in-memory socket class (the WebSocketConstructor port), a
// token store, and a listener that records what the session reports. Heartbeats, connect timers
// and reconnect backoff run on node:test's mock timers, so no test waits on a clock.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { silentLogger } from '@chat/protocol';
import {
  AuthenticationFailedError,
  type ChatClientError,
  ClientClosedError,
  ConnectionLostError,
  ProtocolError,
  ReconnectFailedError,
} from '../../src/index.js';
import { type SessionListener, SocketSession, type StateChange } from '../../src/internal/session.js';
import { firstIdAt, resumeSince } from '../../src/internal/snowflake.js';
import type { WebSocketLike } from '../../src/internal/websocket.js';

type Handler<E> = ((event: E) => void) | null;

/** A socket the test plays the server of: `frames` is what the client sent. */
class Socket implements WebSocketLike {
  static opened: Socket[] = [];
  readyState = 1;
  readonly frames: Array<{ op: number; d: unknown }> = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: Handler<unknown> = null;
  onmessage: Handler<{ data: unknown }> = null;
  onclose: Handler<{ code: number; reason: string }> = null;
  onerror: Handler<unknown> = null;
  constructor(readonly url: string) {
    Socket.opened.push(this);
  }
  send(data: string): void {
    this.frames.push(JSON.parse(data));
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
    this.onclose?.({ code: code ?? 1005, reason: reason ?? '' });
  }
  /** The server sends a frame. */
  frame(op: number, d: unknown, t?: string): void {
    this.onmessage?.({ data: JSON.stringify({ op, d, ...(t ? { t } : {}) }) });
  }
  hello(interval = 1000): void {
    this.frame(10, { heartbeat_interval: interval, server_id: 'gw-1' });
  }
  dispatch(t: string, d: unknown): void {
    this.frame(0, d, t);
  }
  ready(): void {
    this.dispatch('READY', { user: { id: '1001', username: 'alice' }, channels: [], session_id: 's1' });
  }
  /** The server (or the network) closes the connection. */
  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  ops(): number[] {
    return this.frames.map((f) => f.op);
  }
}

interface Recorded {
  calls: string[];
  states: Array<[string, string, StateChange]>;
  errors: ChatClientError[];
  stopped: ChatClientError[];
  messages: string[];
}

function setup(o: { maxAttempts?: number; getToken?: () => Promise<string | null>; token?: string | null } = {}) {
  const rec: Recorded = { calls: [], states: [], errors: [], stopped: [], messages: [] };
  let token: string | null = o.token === undefined ? 'token-1' : o.token;
  const listener: SessionListener = {
    state: (next, prev, change) => {
      rec.calls.push(`state:${next}`);
      rec.states.push([next, prev, change]);
    },
    dispatch: (t) => rec.calls.push(`dispatch:${t}`),
    established: () => rec.calls.push('established'),
    ready: () => rec.calls.push('ready'),
    resumed: () => rec.calls.push('resumed'),
    message: (t, d) => rec.messages.push(`${t}:${d.id}`),
    event: (t) => rec.calls.push(`event:${t}`),
    response: () => rec.calls.push('response'),
    connectionLost: () => rec.calls.push('connectionLost'),
    stopped: (err) => rec.stopped.push(err),
    error: (err) => rec.errors.push(err),
  };
  const session = new SocketSession(
    {
      WebSocket: Socket,
      connectTimeoutMs: 5000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 100, jitter: 0, maxAttempts: o.maxAttempts ?? Infinity },
      resumeMarginMs: 10_000,
      log: silentLogger,
    },
    {
      token: () => token,
      setToken: (t) => {
        token = t;
      },
      getToken: o.getToken,
      user: () => null,
      url: () => 'ws://gateway/ws',
      listener,
    },
  );
  return { session, rec, token: () => token };
}

/** Lets the session's async steps (token, socket constructor) run; mocked timers do not move. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

async function open(s: SocketSession): Promise<Socket> {
  const ready = s.connect();
  await settle();
  const socket = Socket.opened.at(-1)!;
  socket.hello();
  socket.ready();
  await ready;
  return socket;
}

/** After a drop: the backoff passes and the next socket is opened. */
async function nextSocket(): Promise<Socket> {
  const before = Socket.opened.length;
  mock.timers.tick(100);
  await settle();
  assert.equal(Socket.opened.length, before + 1, 'a new socket after the backoff');
  return Socket.opened.at(-1)!;
}

describe('socket session', () => {
  beforeEach(() => {
    Socket.opened = [];
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 1_800_000_000_000 });
  });
  afterEach(() => mock.timers.reset());

  it('HELLO → IDENTIFY with the token → READY: open, then established, then ready', async () => {
    const { session, rec } = setup();
    const socket = await open(session);
    assert.deepEqual(socket.frames[0], { op: 2, d: { token: 'token-1' } });
    assert.deepEqual(rec.calls, ['state:connecting', 'dispatch:READY', 'state:open', 'established', 'ready']);
    assert.equal(session.state, 'open');
    assert.equal(session.sessionId, 's1');
    assert.equal(session.serverId, 'gw-1');
    assert.equal(await session.connect(), session.readyPayload, 'connect() while open gives the last READY');
  });

  it('the first attempt fails fast: a close before READY rejects connect() and ends closed', async () => {
    const { session, rec } = setup();
    const ready = session.connect();
    await settle();
    Socket.opened[0]!.serverClose(1006);
    await assert.rejects(ready, ConnectionLostError);
    const [state, previous, change] = rec.states.at(-1)!;
    assert.deepEqual([state, previous, change.code], ['closed', 'connecting', 1006]);
    assert.ok(change.error instanceof ConnectionLostError);
    mock.timers.tick(10_000);
    await settle();
    assert.equal(Socket.opened.length, 1, 'no retry');
  });

  it('after a drop: reconnecting with the close code, backoff, RESUME from lastSeenId − margin, RESUMED', async () => {
    const { session, rec } = setup();
    const first = await open(session);
    const later = firstIdAt(Date.now() + 60_000);
    first.dispatch('MESSAGE_CREATE', { id: later, channel_id: '1' });
    assert.equal(session.lastSeenId, later, 'a message id above the READY moment raises lastSeenId');
    first.serverClose(1006);
    assert.equal(session.state, 'reconnecting');
    assert.equal(rec.states.at(-1)![2].code, 1006);
    assert.ok(rec.calls.includes('connectionLost'));
    const second = await nextSocket();
    second.hello();
    assert.deepEqual(second.frames[0], {
      op: 6,
      d: { token: 'token-1', since: resumeSince(later, 10_000) },
    });
    second.dispatch('RESUMED', { replayed: 3, truncated: false });
    assert.equal(session.state, 'open');
    assert.deepEqual(rec.calls.slice(-3), ['state:open', 'established', 'resumed']);
  });

  it('INVALID_SESSION in answer to RESUME: IDENTIFY on the same connection', async () => {
    const { session } = setup();
    (await open(session)).serverClose(1001);
    const second = await nextSocket();
    second.hello();
    second.frame(9, { reason: 'expired' });
    assert.deepEqual(second.ops(), [6, 2]);
    second.ready();
    assert.equal(session.state, 'open');
  });

  it('a beat unanswered by the next beat drops the connection with 4000 and reconnects', async () => {
    const { session, rec } = setup();
    const socket = await open(session);
    mock.timers.tick(1000);
    assert.deepEqual(socket.ops().slice(-1), [1], 'a heartbeat');
    socket.frame(11, null);
    mock.timers.tick(1000);
    assert.equal(session.state, 'open', 'acknowledged: still open');
    mock.timers.tick(1000);
    assert.equal(session.state, 'reconnecting');
    assert.equal(socket.closedWith?.code, 4000);
    assert.equal(rec.states.at(-1)![2].code, 4000);
  });

  it('4004 without getToken: AuthenticationFailedError, closed, no reconnect', async () => {
    const { session, rec } = setup();
    (await open(session)).serverClose(4004, 'revoked');
    assert.equal(session.state, 'closed');
    assert.ok(rec.errors[0] instanceof AuthenticationFailedError);
    assert.ok(rec.stopped[0] instanceof AuthenticationFailedError);
    assert.equal(rec.states.at(-1)![2].code, 4004);
    mock.timers.tick(10_000);
    await settle();
    assert.equal(Socket.opened.length, 1);
  });

  it('4004 with getToken: one fresh token, at once, then RESUME with it', async () => {
    let asked = 0;
    const { session, token } = setup({ getToken: async () => `fresh-${++asked}` });
    (await open(session)).serverClose(4004);
    assert.equal(session.state, 'reconnecting');
    await settle();
    assert.equal(asked, 1);
    assert.equal(token(), 'fresh-1');
    const second = Socket.opened[1]!;
    second.hello();
    assert.equal(second.frames[0]!.op, 6);
    assert.equal((second.frames[0]!.d as { token: string }).token, 'fresh-1');
  });

  it('without a token, connect() asks getToken first', async () => {
    const { session } = setup({ token: null, getToken: async () => 'from-getToken' });
    const socket = await open(session);
    assert.deepEqual(socket.frames[0], { op: 2, d: { token: 'from-getToken' } });
  });

  it('gives up after reconnect.maxAttempts failed attempts in a row with ReconnectFailedError', async () => {
    const { session, rec } = setup({ maxAttempts: 1 });
    (await open(session)).serverClose(1006);
    (await nextSocket()).serverClose(1006);
    assert.equal(session.state, 'closed');
    assert.ok(rec.states.at(-1)![2].error instanceof ReconnectFailedError);
    assert.ok(rec.stopped[0] instanceof ReconnectFailedError);
  });

  it('a client-bug close (4002) reports a ProtocolError and reconnects with a fresh IDENTIFY', async () => {
    const { session, rec } = setup();
    (await open(session)).serverClose(4002, 'bad payload');
    assert.ok(rec.errors[0] instanceof ProtocolError);
    assert.equal((rec.errors[0] as ProtocolError).closeCode, 4002);
    const second = await nextSocket();
    second.hello();
    assert.deepEqual(second.ops(), [2]);
  });

  it('close(): 1000 on the socket, state closed, everything waiting fails with ClientClosedError', async () => {
    const { session, rec } = setup();
    const socket = await open(session);
    await session.close();
    assert.equal(socket.closedWith?.code, 1000);
    assert.deepEqual(rec.states.at(-1)!.slice(0, 2), ['closed', 'open']);
    assert.ok(rec.stopped[0] instanceof ClientClosedError);
    assert.equal(session.wantsOpen, false);
    assert.equal(session.trySend('{}'), false);
  });

  it('passes message events on with a valid id only, and other events by name', async () => {
    const { session, rec } = setup();
    const socket = await open(session);
    socket.dispatch('MESSAGE_DELETE', { id: '123', channel_id: '1' });
    socket.dispatch('MESSAGE_CREATE', { id: 'not-an-id' });
    socket.dispatch('TYPING_START', { channel_id: '1', user_id: '2' });
    assert.deepEqual(rec.messages, ['MESSAGE_DELETE:123']);
    assert.ok(rec.errors[0] instanceof ProtocolError);
    assert.equal(rec.calls.at(-1), 'event:TYPING_START');
  });
});
