// The seeds' RabbitMQ designs (bench/baselines/seeds) as real processes on the real broker and Redis:
// for each design, two servers, raw WebSocket clients of the chat protocol split over both, DMs and a
// group message across servers; every member's sockets get each message exactly once, non-members
// nothing; and stop() leaves no queue, exchange or Redis key of the run behind.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createTokenService } from '@chat/gateway';
import { listExchanges, listQueues, waitFor } from '@chat/testkit';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { PeerChannel, PeerInstance } from '../../baselines/peer.js';
import { seedSystems } from '../../baselines/seeds/index.js';
import { REDIS_URL, runPrefix } from '../../lib/services.js';

const SECRET = 'seeds-e2e-secret-0123456789abcdef';
const tokens = createTokenService(SECRET, 3600);

/** u0..u5; the server each one's sockets connect to (u4 has two sockets); u5 is in no channel. */
const USERS = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
const PLACEMENT: Array<[user: string, server: number]> = [
  ['u0', 0],
  ['u1', 1],
  ['u2', 0],
  ['u3', 1],
  ['u4', 1],
  ['u4', 1],
  ['u5', 0],
];
const CHANNELS: PeerChannel[] = [
  { id: 'dm-a', members: ['u0', 'u1'] },
  { id: 'dm-b', members: ['u2', 'u3'] },
  { id: 'group', members: ['u0', 'u1', 'u2', 'u4'] },
];
/** [sender, channel, content]: both directions of a cross-server DM, another DM, two group messages. */
const SENDS: Array<[string, string, string]> = [
  ['u0', 'dm-a', 'dm-a from u0'],
  ['u1', 'dm-a', 'dm-a from u1'],
  ['u3', 'dm-b', 'dm-b from u3'],
  ['u4', 'group', 'group from u4'],
  ['u0', 'group', 'group from u0'],
];

interface Frame {
  op: number;
  t?: string;
  s?: number;
  d?: Record<string, unknown>;
}

/** A raw chat-protocol client: HELLO → IDENTIFY → READY, then requests and received MESSAGE_CREATEs. */
class RawClient {
  readonly user: string;
  readonly received: Array<{ id: string; channel_id: string; content: string }> = [];
  readonly #ws: WebSocket;
  readonly #responses = new Map<string, (d: Record<string, unknown>) => void>();
  #nextRequest = 0;

  private constructor(user: string, ws: WebSocket) {
    this.user = user;
    this.#ws = ws;
  }

  static async connect(url: string, user: string): Promise<RawClient> {
    const token = await tokens.sign({ userId: user, username: `name-${user}` });
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const client = new RawClient(user, ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`${user}: closed with ${code} before READY`)));
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as Frame;
        if (frame.op === 10) ws.send(JSON.stringify({ op: 2, d: { token } }));
        else if (frame.op === 0 && frame.t === 'READY') resolve();
        else if (frame.op === 0 && frame.t === 'MESSAGE_CREATE') client.received.push(frame.d as never);
        else if (frame.op === 21) client.#responses.get(String(frame.d?.id))?.(frame.d!);
      });
    });
    return client;
  }

  request(method: string, params: unknown): Promise<Record<string, unknown>> {
    const id = `r${this.#nextRequest++}`;
    return new Promise((resolve) => {
      this.#responses.set(id, resolve);
      this.#ws.send(JSON.stringify({ op: 20, d: { id, method, params } }));
    });
  }

  close(): void {
    this.#ws.terminate();
  }
}

async function redisKeys(prefix: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  } finally {
    redis.disconnect();
  }
}

describe('seed designs as peer systems', () => {
  const running: PeerInstance[] = [];
  after(async () => {
    for (const instance of running) await instance.stop();
  });

  for (const system of seedSystems) {
    test(`${system.name}: DMs and a group message across two servers reach every member's sockets exactly once, non-members nothing, and stop() leaves nothing behind`, async () => {
      const prefix = runPrefix(`seeds-${system.name}`);
      const instance = await system.start({ users: USERS, channels: CHANNELS, jwtSecret: SECRET, servers: 2, prefix });
      running.push(instance);
      assert.equal(instance.protocol, 'chat');
      assert.equal(instance.urls.length, 2);
      assert.equal(
        instance.processes.filter((p) => p.label.startsWith(`${system.name}-`)).length,
        2,
        'server processes',
      );

      const clients = await Promise.all(
        PLACEMENT.map(([user, server]) => RawClient.connect(instance.urls[server]!, user)),
      );
      try {
        const byUser = (user: string) => clients.find((c) => c.user === user)!;
        const sentIds = new Map<string, string>();
        for (const [sender, channel, content] of SENDS) {
          const res = await byUser(sender).request('message.create', { channel_id: channel, content });
          assert.equal(res.ok, true, `${sender} → ${channel}: ${JSON.stringify(res)}`);
          sentIds.set(content, String((res.result as { id: string }).id));
        }
        const refused = await byUser('u5').request('message.create', { channel_id: 'dm-a', content: 'intruder' });
        assert.equal(refused.ok, false);
        assert.equal((refused.error as { code: string }).code, 'not_a_member');

        const expected = (user: string) =>
          SENDS.filter(([, channel]) => CHANNELS.find((c) => c.id === channel)!.members.includes(user))
            .map(([, , content]) => content)
            .sort();
        await waitFor(
          () => clients.every((c) => c.received.length >= expected(c.user).length),
          `every member socket to receive its ${SENDS.length} messages' share`,
          15_000,
        );
        // Anything duplicated or misrouted would arrive in the same broker round trips: give it a moment.
        await new Promise((r) => setTimeout(r, 500));
        for (const client of clients) {
          const got = client.received.map((m) => m.content).sort();
          assert.deepEqual(got, expected(client.user), `${client.user}'s socket`);
          for (const m of client.received) assert.equal(m.id, sentIds.get(m.content), 'delivered id = RESPONSE id');
        }
        assert.deepEqual(byUser('u5').received, []);
      } finally {
        for (const c of clients) c.close();
      }

      await instance.stop();
      const [queues, exchanges, keys] = await Promise.all([
        listQueues(prefix),
        listExchanges(prefix),
        redisKeys(prefix),
      ]);
      assert.deepEqual(queues, [], 'queues left');
      assert.deepEqual(exchanges, [], 'exchanges left');
      assert.deepEqual(keys, [], 'Redis keys left');
    });
  }
});
