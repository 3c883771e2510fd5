// The system's real processes for the whole-system scenarios (persister, w1, w3): gateways and
// persisters spawned from their main.ts exactly as in production, the MongoDB stand-in in a child
// process of its own, and the cleanup of everything a run created (queues, exchanges, Redis keys).
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gatewayQueueName, topologyNames } from '@chat/router';
import { deleteByPrefix, freePort, spawnService, uniquePrefix } from '@chat/testkit';
import { Redis } from 'ioredis';
import { ChildHandle } from './child.js';
import { diagnosticArgs } from './profile.js';

export const GATEWAY_MAIN = fileURLToPath(new URL('../../packages/gateway/src/main.ts', import.meta.url));
export const PERSISTER_MAIN = fileURLToPath(new URL('../../packages/persister/src/main.ts', import.meta.url));
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
export const STAND_IN_NOTE =
  'MongoDB is the in-memory wire-protocol stand-in of @chat/testkit (no MongoDB server can be installed here): ' +
  'its speed is not MongoDB’s speed, so store times and everything behind them are not production figures. ' +
  'Its process runs with an old space sized for a whole scenario (no major GC of the stored documents within one; ' +
  'bench/lib/services.ts STAND_IN_NODE_ARGS, since 2026-12-03).';

export interface Service {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Its output, one log line per entry (the first 20,000). */
  readonly logs: string[];
  readonly exited: Promise<number | string>;
  /** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILLs this process. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

/** Spawns a service's main.ts from source (testkit's spawnService) and adds a bounded stop. */
export async function startService(
  name: string,
  main: string,
  env: Record<string, string>,
  readyLine: string,
): Promise<Service> {
  const proc = await spawnService({ name, main, env, readyLine, timeoutMs: 60_000, nodeArgs: diagnosticArgs(name) });
  let code: number | string | undefined;
  void proc.exited.then((c) => {
    code = c;
  });
  return {
    name,
    pid: proc.child.pid!,
    child: proc.child,
    logs: proc.logs,
    exited: proc.exited,
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      if (code !== undefined || proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.exited;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const c = await proc.exited;
      clearTimeout(timer);
      return c;
    },
  };
}

/** A fresh name prefix for one run (no trailing '-': the services append their own separators). */
export function runPrefix(label: string): string {
  return uniquePrefix(label).replace(/-+$/, '');
}

/** What every service of one run shares. */
export interface StackEnv {
  prefix: string;
  amqpUrl: string;
  mongoUrl: string;
  mongoDb: string;
  redisUrl: string;
}

function commonEnv(s: StackEnv): Record<string, string> {
  return {
    AMQP_URL: s.amqpUrl,
    MONGO_URL: s.mongoUrl,
    MONGO_DB: s.mongoDb,
    REDIS_URL: s.redisUrl,
    CHAT_PREFIX: s.prefix,
  };
}

export interface PersisterService extends Service {
  metricsUrl: string;
}

export async function startPersister(s: StackEnv, env: Record<string, string> = {}): Promise<PersisterService> {
  const port = await freePort();
  const svc = await startService(
    'persister',
    PERSISTER_MAIN,
    { ...commonEnv(s), PERSISTER_HTTP_PORT: String(port), PERSISTER_HTTP_HOST: '127.0.0.1', ...env },
    '"msg":"persister consuming"',
  );
  return Object.assign(svc, { metricsUrl: `http://127.0.0.1:${port}/metrics` });
}

export interface GatewayService extends Service {
  serverId: string;
  port: number;
  url: string;
  wsUrl: string;
}

/**
 * The gateway's per-client caps and sign-up/login budgets (issue #12), raised for every benchmark:
 * load generators open many sockets per user (W3: 100) from a few 127.0.0.x addresses, and register
 * and log in thousands of users from one. A scenario's own env overrides these.
 */
export const BENCH_GATEWAY_CAPS: Readonly<Record<string, string>> = {
  MAX_SOCKETS_PER_USER: '1000000',
  MAX_PENDING_SOCKETS_PER_ADDRESS: '1000000',
  MAX_SOCKETS_PER_ADDRESS: '10000000',
  SIGNUP_RATE_REQUESTS: '100000000',
  LOGIN_RATE_REQUESTS: '1000000',
  LOGIN_ADDRESS_RATE_REQUESTS: '100000000',
};

export async function startGateway(
  s: StackEnv,
  serverId: string,
  secret: string,
  env: Record<string, string> = {},
): Promise<GatewayService> {
  const port = await freePort();
  const svc = await startService(
    serverId,
    GATEWAY_MAIN,
    // SCRYPT_LOG_N: benchmarks register thousands of users; the password hash is not what they measure.
    {
      ...commonEnv(s),
      PORT: String(port),
      HOST: '127.0.0.1',
      SERVER_ID: serverId,
      JWT_SECRET: secret,
      SCRYPT_LOG_N: '10',
      ...BENCH_GATEWAY_CAPS,
      ...env,
    },
    '"msg":"gateway listening"',
  );
  return Object.assign(svc, {
    serverId,
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
  });
}

/** The MongoDB stand-in in a child process (its CPU is then measured on its own). */
export interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
}

/**
 * The stand-in keeps every stored document on its V8 heap (MongoDB keeps them in native memory). By the
 * overload steps of a full `w1` that heap holds ≈ 500 MB, and one major GC's incremental marking then
 * took 1.4 s of the stand-in's main thread within 1.8 s (`BENCH_TRACE_GC=mongo-stand-in`, 2026-12-03):
 * the store stalled and a step's p99 measured the stand-in's collector, not the system. An old space
 * sized for a whole scenario starts no major GC within one (young-generation scavenges go on as usual).
 */
const STAND_IN_NODE_ARGS = ['--initial-old-space-size=4096'];

export async function startMongoProcess(): Promise<{
  url: string;
  pid: number;
  stop(): Promise<void>;
  /** The stand-in process's GC pauses since the previous call. */
  gcPauses(): Promise<GcPauses>;
}> {
  const child = new ChildHandle(
    'mongo-stand-in',
    new URL('./mongo-worker.ts', import.meta.url),
    [],
    STAND_IN_NODE_ARGS,
  );
  const { url } = await child.call<{ url: string }>('start', {}, 60_000);
  return { url, pid: child.pid, stop: () => child.stop(10_000), gcPauses: () => child.call<GcPauses>('gc') };
}

/** The system Redis server's pid (INFO server), for its CPU%. */
export async function redisPid(url = REDIS_URL): Promise<number | undefined> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const info = await redis.info('server');
    const m = /process_id:(\d+)/.exec(info);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** Deletes Redis keys matching the patterns (SCAN, never KEYS); each pattern must be specific to this run. */
export async function deleteRedisKeys(patterns: readonly string[], url = REDIS_URL): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  let deleted = 0;
  try {
    await redis.connect();
    for (const match of patterns) {
      if (match.replace(/[*?[\]]/g, '').length < 8)
        throw new RangeError(`refusing a Redis pattern this broad: ${match}`);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) deleted += await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/**
 * Removes what a run created on the broker and in Redis: the route exchanges, persist/dead queues
 * and the gateway queues of `serverIds` under `prefix`, `<prefix>:*` keys (worker leases, rate
 * limits, nonces), and the membership-cache keys of `channelIds` (the services cache them under a
 * fixed `chat:` prefix, whatever CHAT_PREFIX says).
 */
export async function cleanupRun(
  amqpUrl: string,
  prefix: string,
  serverIds: readonly string[],
  channelIds: readonly string[],
  extraQueues: readonly string[] = [],
): Promise<void> {
  const names = topologyNames(prefix, 16);
  await deleteByPrefix(amqpUrl, prefix, {
    queues: [
      names.persistQueue,
      names.deadQueue,
      ...serverIds.map((id) => gatewayQueueName(prefix, id)),
      ...extraQueues,
    ],
    exchanges: [names.frontExchange, ...names.routeExchanges, names.deadExchange],
  });
  await deleteRedisKeys([`${prefix}:*`]);
  if (channelIds.length > 0) {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    try {
      await redis.connect();
      for (let i = 0; i < channelIds.length; i += 500) {
        const keys = channelIds
          .slice(i, i + 500)
          .flatMap((c) => ['gen', 'members', 'slots'].map((k) => `chat:ch:{${c}}:${k}`));
        await redis.del(...keys);
      }
    } finally {
      redis.disconnect();
    }
  }
}
