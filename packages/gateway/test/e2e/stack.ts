// The whole system as real processes for end-to-end tests and benchmarks: N gateways and a
// persister (spawned exactly as in production, from their main.ts), the local RabbitMQ and Redis,
// MongoDB from MONGO_URL or the in-process stand-in, and a unique prefix so runs never collide.
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gatewayQueueName, topologyNames } from '@chat/router';
import {
  amqpUrl,
  deleteByPrefix,
  freePort,
  type MongoHandle,
  type ServiceProcess,
  spawnService as spawnServiceProcess,
  startMongo,
  uniquePrefix,
  waitFor,
} from '@chat/testkit';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';

const GATEWAY_MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const PERSISTER_MAIN = fileURLToPath(new URL('../../../persister/src/main.ts', import.meta.url));

export { freePort, waitFor } from '@chat/testkit';

export type Proc = ServiceProcess;

function spawnService(name: string, main: string, env: Record<string, string>, readyLine: string): Promise<Proc> {
  return spawnServiceProcess({ name, main, env, readyLine });
}

export interface Stack {
  prefix: string;
  mongo: MongoHandle;
  dbName: string;
  secret: string;
  gateways: Array<Proc & { port: number; serverId: string; url: string }>;
  persister: Proc;
  /** Starts one more gateway (or restarts a stopped one's slot with a new id). */
  addGateway(extraEnv?: Record<string, string>): Promise<Stack['gateways'][number]>;
  restartPersister(): Promise<void>;
  close(): Promise<void>;
}

export interface StackOptions {
  gateways?: number;
  gatewayEnv?: Record<string, string>;
  persisterEnv?: Record<string, string>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const prefix = uniquePrefix('e2e').replace(/-+$/, '');
  const mongo = await startMongo();
  const dbName = prefix.replace(/-/g, '_');
  const secret = `test-secret-${prefix}-0123456789abcdefghijklmnopqrstuvwxyz`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const common = {
    AMQP_URL: amqpUrl(),
    MONGO_URL: mongo.url,
    MONGO_DB: dbName,
    REDIS_URL: redisUrl,
    CHAT_PREFIX: prefix,
  };
  const serverIds: string[] = [];
  let n = 0;
  const stack: Stack = {
    prefix,
    mongo,
    dbName,
    secret,
    gateways: [],
    persister: await spawnService(
      'persister',
      PERSISTER_MAIN,
      {
        ...common,
        PERSISTER_HTTP_PORT: String(await freePort()),
        PERSISTER_HTTP_HOST: '127.0.0.1',
        ...options.persisterEnv,
      },
      '"msg":"persister consuming"',
    ),
    async addGateway(extraEnv = {}) {
      const port = await freePort();
      const serverId = `gw${n++}`;
      serverIds.push(serverId);
      const proc = await spawnService(
        serverId,
        GATEWAY_MAIN,
        {
          ...common,
          PORT: String(port),
          HOST: '127.0.0.1',
          SERVER_ID: serverId,
          JWT_SECRET: secret,
          // Tests sign up hundreds of users: a cheaper hash (the default's cost is tested in @chat/store).
          SCRYPT_LOG_N: '12',
          ...options.gatewayEnv,
          ...extraEnv,
        },
        '"msg":"gateway listening"',
      );
      const gw = Object.assign(proc, { port, serverId, url: `http://127.0.0.1:${port}` });
      stack.gateways.push(gw);
      return gw;
    },
    async restartPersister() {
      stack.persister = await spawnService(
        'persister',
        PERSISTER_MAIN,
        {
          ...common,
          PERSISTER_HTTP_PORT: String(await freePort()),
          PERSISTER_HTTP_HOST: '127.0.0.1',
          ...options.persisterEnv,
        },
        '"msg":"persister consuming"',
      );
    },
    async close() {
      for (const p of [...stack.gateways, stack.persister]) {
        if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGKILL');
        await p.exited;
      }
      const names = topologyNames(prefix, 16);
      await deleteByPrefix(amqpUrl(), prefix, {
        queues: [names.persistQueue, names.deadQueue, ...serverIds.map((id) => gatewayQueueName(prefix, id))],
        exchanges: [names.frontExchange, ...names.routeExchanges, names.deadExchange],
      }).catch(() => {});
      const client = await new MongoClient(mongo.url).connect();
      await client
        .db(dbName)
        .dropDatabase()
        .catch(() => {});
      await client.close();
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await mongo.close();
    },
  };
  for (let i = 0; i < (options.gateways ?? 2); i++) await stack.addGateway();
  return stack;
}

/** The sum of a gateway metric's samples whose line starts with `name` (labels included in `name` narrow it). */
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/** A JSON HTTP call; resolves with status, parsed body and headers. `from`: a 127.0.0.x source address and extra headers. */
export async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  from: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const { status, text, headers } = await new Promise<{ status: number; text: string; headers: Headers }>(
    (resolve, reject) => {
      const req = request(
        `${base}${path}`,
        {
          method,
          // A connection per call: a kept-alive socket the gateway closed (after a body it did not read)
          // would fail the next call with ECONNRESET.
          agent: false,
          localAddress: from.localAddress,
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...from.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), headers: h });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    },
  );
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status, body: parsed, headers };
}

/** Registers and logs in a user; resolves with its id, name and token. */
export async function signUp(
  base: string,
  username: string,
  password = 'correct horse battery',
): Promise<{ id: string; username: string; token: string }> {
  const reg = await http(base, 'POST', '/api/users', { username, password });
  if (reg.status !== 201) throw new Error(`register ${username}: ${reg.status} ${JSON.stringify(reg.body)}`);
  const login = await http(base, 'POST', '/api/sessions', { username, password });
  if (login.status !== 200) throw new Error(`login ${username}: ${login.status}`);
  return { id: reg.body.id, username, token: login.body.token };
}

/**
 * Waits until the newest message stored in `channelId` (its history, read as `token`) is `messageId`.
 * A 201 for a message means the broker confirmed the write, not that the persister stored it; a test
 * that reads the store (history, a RESUME replay) waits here first. The persister appends the writes
 * of its queue in order, so the messages a test sent and saw confirmed before `messageId` are stored too.
 */
export async function waitForStored(base: string, channelId: string, messageId: string, token: string): Promise<void> {
  await waitFor(
    async () =>
      (await http(base, 'GET', `/api/channels/${channelId}/messages?limit=1`, undefined, token)).body[0]?.id ===
      messageId,
    `message ${messageId} to be stored in channel ${channelId}`,
  );
}
