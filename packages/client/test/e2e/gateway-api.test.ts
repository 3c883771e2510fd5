// @chat/client against a real gateway (spawned as in production, with a persister, RabbitMQ, Redis
// and the MongoDB stand-in) for everything a normal gateway does: the HTTP API with its real answers
// and errors, the message operations over HTTP without a session and over the session with one,
// IDENTIFY → READY, the slot hint, a refused token, requests and their errors, nonce idempotency, and
// the non-message events under their camelCase names. What only a misbehaving or scripted server can
// show stays in test/integration (see fake-server.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { slotOf } from '@chat/protocol';
import { WebSocket as WsSocket } from 'ws';
import { type Stack, startStack, waitFor } from '../../../gateway/test/e2e/stack.js';
import {
  AuthenticationFailedError,
  ChatApiError,
  type ChatClient,
  ChatRequestError,
  ClientClosedError,
  type ClientEvents,
  type ClientOptions,
  type ConnectionState,
  createClient,
  type WebSocketConstructor,
} from '../../src/index.js';

const PASSWORD = 'correct horse battery';
/** Logins per (address, username) per window on this test's gateway. */
const LOGIN_RATE = 3;

/** `ws`'s WebSocket, remembering the URL of every socket the client opens (a real socket; only recorded). */
function recordingWebSocket(): { Ctor: WebSocketConstructor; urls: URL[] } {
  const urls: URL[] = [];
  class Recording extends WsSocket {
    constructor(url: string) {
      super(url);
      urls.push(new URL(url));
    }
  }
  return { Ctor: Recording as unknown as WebSocketConstructor, urls };
}

/** Every emission of `event`. */
function record<K extends keyof ClientEvents>(client: ChatClient, event: K): ClientEvents[K][] {
  const seen: ClientEvents[K][] = [];
  client.on(event, (...args) => {
    seen.push(args);
  });
  return seen;
}

/**
 * Waits until the persister has stored message `id`: `send` resolves once the write is durable in
 * the queue, and an edit or delete needs the stored message.
 */
async function stored(c: ChatClient, channelId: string, id: string): Promise<void> {
  await waitFor(
    async () => (await c.history(channelId, { limit: 10 })).some((m) => m.id === id),
    `message ${id} stored`,
  );
}

describe('@chat/client against a real gateway', () => {
  let stack: Stack;
  let base: string;
  const clients: ChatClient[] = [];

  function client(options: Partial<ClientOptions> = {}): ChatClient {
    const c = createClient({ baseUrl: base, requestTimeoutMs: 20_000, ...options });
    clients.push(c);
    return c;
  }

  /** A new account, logged in through the SDK (not connected). */
  async function account(name: string, options: Partial<ClientOptions> = {}): Promise<ChatClient> {
    const c = client(options);
    await c.register(name, PASSWORD);
    await c.login(name, PASSWORD);
    return c;
  }

  before(async () => {
    stack = await startStack({ gateways: 1, gatewayEnv: { LOGIN_RATE_REQUESTS: String(LOGIN_RATE) } });
    base = stack.gateways[0]!.url;
  });
  after(async () => {
    for (const c of clients) await c.close();
    await stack?.close();
  });

  describe('HTTP API', () => {
    it('register, login, me, channels, logout: the token is kept, sent, and forgotten', async () => {
      const c = client();
      const user = await c.register('api-alice', PASSWORD);
      assert.equal(user.username, 'api-alice');
      assert.equal(c.token, null, 'register does not log in');
      const { token, user: loggedIn } = await c.login('api-alice', PASSWORD);
      assert.equal(c.token, token);
      assert.deepEqual(c.user, loggedIn);
      assert.equal((await c.me()).id, user.id);
      assert.deepEqual(
        (await c.channels()).map((ch) => ch.name),
        ['official'],
        'new accounts land in the default group',
      );
      await c.logout();
      assert.equal(c.token, null);
      c.setToken(token);
      await assert.rejects(c.me(), (err: unknown) => err instanceof ChatApiError && err.status === 401);
    });

    it('channels and members: create, add, remove; the answers are the stored ones', async () => {
      const owner = await account('api-owner');
      const guest = await account('api-guest');
      const guestId = guest.user!.id;
      const group = await owner.createChannel({ kind: 'group', name: 'api-group' });
      assert.equal(group.name, 'api-group');
      await owner.addMember(group.id, guestId);
      assert.ok((await guest.channels()).some((ch) => ch.id === group.id));
      await owner.removeMember(group.id, guestId);
      assert.ok(!(await guest.channels()).some((ch) => ch.id === group.id));
      const dm = await owner.createChannel({ kind: 'dm', recipients: [guestId] });
      assert.equal(dm.kind, 'dm');
    });

    it('without a session, send/edit/delete/history go over HTTP; a nonce sent twice stores one message', async () => {
      const c = await account('api-writer');
      const [official] = await c.channels();
      const sent = await c.send(official!.id, 'over http', { nonce: 'http-nonce' });
      assert.equal(sent.content, 'over http');
      assert.equal(sent.nonce, 'http-nonce');
      const generated = await c.send(official!.id, 'no nonce given');
      assert.ok(typeof generated.nonce === 'string' && generated.nonce.length > 0, 'send() generates a nonce');
      const again = await c.send(official!.id, 'over http', { nonce: 'http-nonce' });
      assert.equal(again.id, sent.id, 'same author and nonce: the same message');
      await stored(c, official!.id, sent.id);
      const edited = await c.edit(official!.id, sent.id, 'edited over http');
      assert.equal(edited.content, 'edited over http');
      await waitFor(
        async () =>
          (await c.history(official!.id, { limit: 10 })).find((m) => m.id === sent.id)?.content === 'edited over http',
        'the edit in the history',
      );
      await c.delete(official!.id, sent.id);
      await waitFor(
        async () => !(await c.history(official!.id, { limit: 10 })).some((m) => m.id === sent.id),
        'the message gone from the history',
      );
      assert.equal(c.state, 'closed', 'no socket was opened');
    });

    it("a server refusal is a ChatApiError with the server's status, code and message", async () => {
      const c = await account('api-outsider');
      const owner = await account('api-private');
      const group = await owner.createChannel({ kind: 'group', name: 'private' });
      await assert.rejects(c.history(group.id), (err: unknown) => {
        assert.ok(err instanceof ChatApiError);
        assert.equal(err.status, 403);
        assert.equal(err.code, 'not_a_member');
        assert.equal(err.retryable, false);
        return true;
      });
    });

    it('a 429 carries Retry-After as retryAfter, and is retryable', async () => {
      const c = client();
      await c.register('api-hasty', PASSWORD);
      for (let i = 0; i < LOGIN_RATE; i++) await c.login('api-hasty', PASSWORD);
      await assert.rejects(c.login('api-hasty', PASSWORD), (err: unknown) => {
        assert.ok(err instanceof ChatApiError);
        assert.equal(err.status, 429);
        assert.equal(err.code, 'rate_limited');
        assert.ok(typeof err.retryAfter === 'number' && err.retryAfter >= 1);
        assert.equal(err.retryable, true);
        return true;
      });
    });
  });

  describe('session', () => {
    it('connect(): IDENTIFY → READY with the user and its channels, on a URL with the slot hint', async () => {
      const { Ctor, urls } = recordingWebSocket();
      const c = await account('api-session', { WebSocket: Ctor });
      const states = record(c, 'state');
      const ready = await c.connect();
      assert.equal(ready.user.id, c.user!.id);
      assert.deepEqual(
        ready.channels.map((ch) => ch.name),
        ['official'],
      );
      assert.equal(c.sessionId, ready.session_id);
      assert.equal(typeof c.sequence, 'number', 'READY carries the first sequence number');
      assert.equal(c.serverId, stack.gateways[0]!.serverId);
      assert.deepEqual(
        states.map(([s]) => s),
        ['connecting', 'open'],
      );
      assert.equal(urls.length, 1, 'the injected constructor is the one used');
      assert.equal(urls[0]!.pathname, '/ws');
      assert.equal(urls[0]!.searchParams.get('slot'), String(slotOf(ready.user.id)));
      assert.equal(await c.connect(), c.readyPayload, 'connect() while open gives the last READY');
    });

    it('a refused token during IDENTIFY rejects connect() with AuthenticationFailedError (4004), no retry', async () => {
      const c = client({ token: 'not.a.token' });
      const states = record(c, 'state');
      await assert.rejects(c.connect(), AuthenticationFailedError);
      const [state, , change] = states.at(-1)!;
      assert.equal(state, 'closed');
      assert.equal(change.code, 4004);
    });

    it('requests over the session: history.get, message.create with a nonce (idempotent), update, delete', async () => {
      const c = await account('api-ws-writer');
      const { channels } = await c.connect();
      const official = channels[0]!;
      const sent = await c.send(official.id, 'over ws', { nonce: 'ws-nonce' });
      assert.equal(sent.nonce, 'ws-nonce');
      assert.equal((await c.send(official.id, 'over ws', { nonce: 'ws-nonce' })).id, sent.id);
      await stored(c, official.id, sent.id);
      assert.equal((await c.edit(official.id, sent.id, 'edited over ws')).content, 'edited over ws');
      await waitFor(
        async () =>
          (await c.history(official.id, { limit: 10 })).find((m) => m.id === sent.id)?.content === 'edited over ws',
        'the edit in the history',
      );
      await c.delete(official.id, sent.id);
      await waitFor(
        async () => !(await c.history(official.id, { limit: 10 })).some((m) => m.id === sent.id),
        'the message gone from the history',
      );
    });

    it("a refused request is a ChatRequestError with the method and the server's code", async () => {
      const author = await account('api-author');
      const other = await account('api-other');
      const { channels } = await author.connect();
      await other.connect();
      const m = await author.send(channels[0]!.id, 'mine');
      await stored(author, channels[0]!.id, m.id);
      await assert.rejects(other.edit(channels[0]!.id, m.id, 'not yours'), (err: unknown) => {
        assert.ok(err instanceof ChatRequestError);
        assert.equal(err.method, 'message.update');
        assert.equal(err.code, 'not_author');
        assert.equal(err.retryable, false);
        return true;
      });
    });

    it('presence, typing, channel creation and membership changes arrive under their camelCase event names', async () => {
      const owner = await account('api-events-owner');
      const member = await account('api-events-member');
      const memberId = member.user!.id;
      await owner.connect();
      const presence = record(owner, 'presenceUpdate');
      await member.connect();
      await waitFor(
        () => presence.some(([p]) => p.user_id === memberId && p.status === 'online'),
        'presenceUpdate: the member came online (both are in the default group)',
      );
      const created = record(member, 'channelCreate');
      const added = record(owner, 'channelMemberAdd');
      const removed = record(owner, 'channelMemberRemove');
      const typing = record(member, 'typingStart');
      const dm = await owner.createChannel({ kind: 'dm', recipients: [memberId] });
      await waitFor(() => created.some(([ch]) => ch.id === dm.id), 'channelCreate for the DM partner');
      const group = await owner.createChannel({ kind: 'group', name: 'api-events' });
      await owner.addMember(group.id, memberId);
      await waitFor(() => added.some(([p]) => p.user_id === memberId), 'channelMemberAdd for the owner');
      await owner.typing(group.id);
      await waitFor(() => typing.some(([p]) => p.channel_id === group.id), 'typingStart for the member');
      await owner.removeMember(group.id, memberId);
      await waitFor(() => removed.some(([p]) => p.user_id === memberId), 'channelMemberRemove for the owner');
    });

    it('close(): state closed with 1000, no reconnect, requests refused until connect() again', async () => {
      const { Ctor, urls } = recordingWebSocket();
      const c = await account('api-closer', { WebSocket: Ctor });
      const { channels } = await c.connect();
      const states: ConnectionState[] = [];
      c.on('state', (s) => states.push(s));
      await c.close();
      assert.deepEqual(states, ['closed']);
      await assert.rejects(c.typing(channels[0]!.id), ClientClosedError);
      await c.connect();
      assert.equal(urls.length, 2, 'only the second connect() opened a socket');
      await c.typing(channels[0]!.id);
    });
  });
});
