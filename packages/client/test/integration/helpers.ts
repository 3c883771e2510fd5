// Shared pieces of the client's integration tests: a client wired to a fake server with fast
// timers, cleanup through the test context, and waiting for events.
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ChatClient, type ClientEvents, type ClientOptions, createClient, type User } from '../../src/index.js';
import { type FakeServer, type PeerConnection, startFakeServer } from './fake-server.js';

export const ALICE: User = { id: '1001', username: 'alice' };
export const GENERAL = { id: '3001', kind: 'group' as const, name: 'general' };

export interface Fixture {
  server: FakeServer;
  client: ChatClient;
}

/** A fake server and a client on it (token set, fast reconnects); both closed after the test. */
export async function fixture(t: TestContext, options: Partial<ClientOptions> = {}): Promise<Fixture> {
  const server = await startFakeServer();
  const client = createClient({
    baseUrl: server.baseUrl,
    token: 'token-alice',
    requestTimeoutMs: 2000,
    connectTimeoutMs: 2000,
    reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
  t.after(async () => {
    await client.close();
    await server.close();
  });
  return { server, client };
}

/** HELLO, then expects IDENTIFY and answers READY. Returns the IDENTIFY payload. */
export async function acceptIdentify(peer: PeerConnection, heartbeatInterval = 60_000): Promise<unknown> {
  peer.hello(heartbeatInterval);
  const identify = await peer.next(2);
  peer.dispatch('READY', { user: ALICE, channels: [GENERAL], session_id: 'session-1' });
  return identify.d;
}

/** Takes the next connection and completes IDENTIFY/READY on it; `connect()` resolves. */
export async function connected(f: Fixture, heartbeatInterval = 60_000): Promise<PeerConnection> {
  const ready = f.client.connect();
  const peer = await f.server.nextConnection();
  await acceptIdentify(peer, heartbeatInterval);
  await ready;
  return peer;
}

/** The next `event` of the client whose arguments satisfy `match`. */
export function nextEvent<K extends keyof ClientEvents>(
  client: ChatClient,
  event: K,
  match: (...args: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 2000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${String(event)} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.on(event, (...args) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    });
  });
}

/** Records every emission of `event`. */
export function record<K extends keyof ClientEvents>(client: ChatClient, event: K): ClientEvents[K][] {
  const seen: ClientEvents[K][] = [];
  client.on(event, (...args) => {
    seen.push(args);
  });
  return seen;
}

export async function waitFor(cond: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A message object of docs/protocol.md §4. */
export function message(id: string, content = `m${id}`, channelId = GENERAL.id, edited: string | null = null) {
  return {
    id,
    channel_id: channelId,
    author: { id: ALICE.id, username: ALICE.username },
    content,
    timestamp: '2026-01-01T00:00:00.000Z',
    edited_timestamp: edited,
    nonce: null,
    type: 0 as const,
  };
}
