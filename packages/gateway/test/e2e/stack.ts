// The whole system as real processes for end-to-end tests and benchmarks: N gateways and a
// persister (spawned exactly as in production, from their main.ts), the local RabbitMQ and Redis,
// MongoDB from MONGO_URL or the in-process stand-in, and a unique prefix so runs never collide.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gatewayQueueName, topologyNames } from '@chat/router';
import { amqpUrl, deleteByPrefix, type MongoHandle, startMongo, uniquePrefix } from '@chat/testkit';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';

const GATEWAY_MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const PERSISTER_MAIN = fileURLToPath(new URL('../../../persister/src/main.ts', import.meta.url));

export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logs: string[];
  readonly exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

async function spawnService(name: string, main: string, env: Record<string, string>, readyLine: string): Promise<Proc> {
  const child = spawn(process.execPath, ['--conditions=@chat/source', '--import', 'tsx', main], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let ready = false;
  let gone = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      gone = true;
      resolve(code ?? signal ?? -1);
    }),
  );
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      if (logs.length < 20_000) logs.push(line);
      if (line.includes(readyLine)) ready = true;
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  await waitFor(() => ready || gone, `${name} to start`, 60_000);
  if (!ready) throw new Error(`${name} exited at start:\n${logs.slice(-30).join('\n')}`);
  return { name, child, logs, exited, kill: (s) => child.kill(s) };
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
        exchanges: [...names.routeExchanges, names.deadExchange],
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

/** A JSON HTTP call; resolves with status, parsed body and headers. */
export async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
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
