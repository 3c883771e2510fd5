// @chat/client against a real gateway (spawned as in production) behind a TCP proxy the test can cut:
// getToken on connect and on close 4004 (a revoked token refreshed, then RESUME), the close code in
// `state` events, reconnect.maxAttempts (final state, waiting requests rejected), and close()
// resolving once the socket is closed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTcpProxy, type TcpProxy } from '@chat/testkit';
import { WebSocket as WsSocket } from 'ws';
import { http, type Stack, signUp, startStack, waitFor } from '../../../gateway/test/e2e/stack.js';
import {
  AuthenticationFailedError,
  type ChatClient,
  type ClientOptions,
  type ConnectionState,
  createClient,
  ReconnectFailedError,
  type StateChange,
  type WebSocketConstructor,
} from '../../src/index.js';

const PASSWORD = 'correct horse battery';

/** `ws`'s WebSocket, remembering every socket the client opens (a real socket; only counted). */
function recordingWebSocket(): { Ctor: WebSocketConstructor; sockets: WsSocket[] } {
  const sockets: WsSocket[] = [];
  class Recording extends WsSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return { Ctor: Recording as unknown as WebSocketConstructor, sockets };
}

function recordStates(client: ChatClient): Array<[ConnectionState, ConnectionState, StateChange]> {
  const states: Array<[ConnectionState, ConnectionState, StateChange]> = [];
  client.on('state', (s, prev, change) => states.push([s, prev, change]));
  return states;
}

async function login(base: string, username: string): Promise<string> {
  const res = await http(base, 'POST', '/api/sessions', { username, password: PASSWORD });
  assert.equal(res.status, 200, `login ${username}`);
  return res.body.token as string;
}

describe('@chat/client session habits against a real gateway', () => {
  let stack: Stack;
  let proxy: TcpProxy;
  let base: string;
  let viaProxy: string;
  const clients: ChatClient[] = [];

  function client(options: Partial<ClientOptions>): ChatClient {
    const c = createClient({
      baseUrl: viaProxy,
      requestTimeoutMs: 20_000,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      ...options,
    });
    clients.push(c);
    return c;
  }

  before(async () => {
    stack = await startStack({ gateways: 1 });
    base = stack.gateways[0]!.url;
    proxy = await startTcpProxy({ port: stack.gateways[0]!.port });
    viaProxy = `http://127.0.0.1:${proxy.port}`;
  });
  after(async () => {
    for (const c of clients) await c.close();
    await proxy?.close();
    await stack?.close();
  });

  it('connect() without a token asks getToken once and reaches READY with it', async () => {
    const alice = await signUp(base, 'habits-alice', PASSWORD);
    let calls = 0;
    const c = client({
      getToken: async () => {
        calls++;
        return login(base, 'habits-alice');
      },
    });
    const ready = await c.connect();
    assert.equal(ready.user.id, alice.id);
    assert.equal(calls, 1);
    assert.equal(c.state, 'open');
    // The SDK's HTTP calls (at /api/v1) use the token getToken gave.
    assert.equal((await c.me()).id, alice.id);
  });

  it('a token revoked while disconnected: close 4004 on RESUME, getToken refreshes it, RESUME misses nothing', async () => {
    const bob = await signUp(base, 'habits-bob', PASSWORD);
    const carol = await signUp(base, 'habits-carol', PASSWORD);
    const dm = (await http(base, 'POST', '/api/channels', { kind: 'dm', recipients: [carol.id] }, bob.token)).body;
    const first = await login(base, 'habits-carol');
    const refreshed: string[] = [];
    const c = client({
      token: first,
      getToken: async () => {
        const t = await login(base, 'habits-carol');
        refreshed.push(t);
        return t;
      },
    });
    const states = recordStates(c);
    const received: string[] = [];
    c.on('messageCreate', (m) => received.push(m.content));
    const resumed: boolean[] = [];
    c.on('resumed', (r) => resumed.push(r.truncated));
    await c.connect();

    proxy.cut();
    await waitFor(() => c.state === 'reconnecting', 'the drop to be noticed');
    const drop = states.find(([s]) => s === 'reconnecting')!;
    assert.equal(drop[1], 'open');
    assert.equal(drop[2].code, 1006, 'a broken TCP connection is an abnormal close');
    // Log out everywhere (revokes `first`), and send while carol is away.
    assert.equal((await http(base, 'DELETE', '/api/sessions', undefined, first)).status, 204);
    const sent = await http(base, 'POST', `/api/channels/${dm.id}/messages`, { content: 'while away' }, bob.token);
    assert.equal(sent.status, 201);
    proxy.restore();

    await waitFor(() => resumed.length === 1, 'RESUMED with the refreshed token');
    assert.equal(refreshed.length, 1, 'one refresh');
    assert.equal(c.token, refreshed[0]);
    assert.equal(c.state, 'open');
    await waitFor(() => received.includes('while away'), 'the message sent during the outage');
    // The socket after the refresh works: a request is answered.
    const echo = await c.send(dm.id, 'back again');
    assert.equal(echo.content, 'back again');
  });

  it('a refreshed token refused again ends the session: AuthenticationFailedError, state closed with 4004', async () => {
    await signUp(base, 'habits-dave', PASSWORD);
    let calls = 0;
    const c = client({
      token: 'not.a.token',
      getToken: () => {
        calls++;
        return 'still.not.a.token';
      },
    });
    const states = recordStates(c);
    await assert.rejects(c.connect(), AuthenticationFailedError);
    assert.equal(calls, 1, 'one refresh per refused token');
    const closed = states.at(-1)!;
    assert.equal(closed[0], 'closed');
    assert.equal(closed[2].code, 4004);
    assert.ok(closed[2].error instanceof AuthenticationFailedError);
  });

  it('getToken failing ends the first attempt with AuthenticationFailedError carrying the cause', async () => {
    const boom = new Error('identity provider down');
    const c = client({
      getToken: () => {
        throw boom;
      },
    });
    await assert.rejects(c.connect(), (err: unknown) => err instanceof AuthenticationFailedError && err.cause === boom);
    assert.equal(c.state, 'closed');
  });

  it('reconnect.maxAttempts: after that many failed attempts the state is closed and waiting requests reject', async () => {
    const erin = await signUp(base, 'habits-erin', PASSWORD);
    const { Ctor, sockets } = recordingWebSocket();
    const c = client({
      token: erin.token,
      WebSocket: Ctor,
      reconnect: { initialDelayMs: 20, maxDelayMs: 50, maxAttempts: 3 },
    });
    const states = recordStates(c);
    const { channels } = await c.connect();
    assert.equal(sockets.length, 1);
    proxy.cut();
    try {
      await waitFor(() => c.state === 'reconnecting', 'the drop to be noticed');
      const waiting = c.typing(channels[0]!.id); // queued for a session that never comes
      await assert.rejects(waiting, ReconnectFailedError);
      assert.equal(c.state, 'closed');
      assert.equal(sockets.length, 1 + 3, 'the first socket and three reconnect attempts');
      const closed = states.at(-1)!;
      assert.deepEqual(closed.slice(0, 2), ['closed', 'reconnecting']);
      assert.equal(closed[2].code, 1006);
      assert.ok(closed[2].error instanceof ReconnectFailedError);
    } finally {
      proxy.restore();
    }
    // Nothing is retried after giving up; connect() starts again.
    await assert.rejects(c.typing(channels[0]!.id), /not connected/);
    await c.connect();
    assert.equal(c.state, 'open');
  });

  it('close() resolves once the socket is closed, and its state event carries 1000', async () => {
    const frank = await signUp(base, 'habits-frank', PASSWORD);
    const { Ctor, sockets } = recordingWebSocket();
    const c = client({ token: frank.token, WebSocket: Ctor });
    const states = recordStates(c);
    await c.connect();
    const socket = sockets.at(-1)!;
    assert.equal(socket.readyState, WsSocket.OPEN);
    await c.close();
    assert.equal(socket.readyState, WsSocket.CLOSED);
    const closed = states.at(-1)!;
    assert.deepEqual(closed, ['closed', 'open', { code: 1000, reason: 'client closed' }]);
  });
});
