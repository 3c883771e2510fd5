// The system as in production, on this machine: a 3-node RabbitMQ cluster, a private redis-server,
// MongoDB (MONGO_URL, else the testkit stand-in) behind a TCP proxy that can cut it, 3 gateways behind
// nginx (each reaching its first broker node through its own TCP proxy), 2 persisters. Everything is
// private to the run (own nodes, prefix, database), so stopping it leaves nothing behind.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  type MongoHandle,
  type Nginx,
  type RabbitCluster,
  type RedisServer,
  startMongo,
  startNginx,
  startRabbitCluster,
  startRedisServer,
  startTcpProxy,
  type TcpProxy,
} from '@chat/testkit';
import type { UnaskedExit } from './history.js';
import { Service } from './service.js';

const GATEWAY_MAIN = fileURLToPath(new URL('../../gateway/src/main.ts', import.meta.url));
const PERSISTER_MAIN = fileURLToPath(new URL('../../persister/src/main.ts', import.meta.url));

export interface SystemOptions {
  gateways?: number;
  persisters?: number;
}

export interface System {
  prefix: string;
  dbName: string;
  mongoUrl: string;
  cluster: RabbitCluster;
  redis: RedisServer;
  mongoProxy: TcpProxy;
  /** Per gateway: the proxy between it and its first broker node. */
  amqpProxies: TcpProxy[];
  gateways: Service[];
  persisters: Service[];
  nginx: Nginx;
  /** Gateways and persisters that exited on their own (each was started again). */
  exits: UnaskedExit[];
  /** nginx: what clients connect to. */
  url: string;
  stop(): Promise<void>;
}

/** Gateway limits raised for a run whose clients all connect from 127.0.0.1 (the per-address budgets). */
const GATEWAY_ENV = {
  HOST: '127.0.0.1',
  SCRYPT_LOG_N: '12',
  HTTP_RATE_REQUESTS: '100000',
  LOGIN_ADDRESS_RATE_REQUESTS: '100000',
  SIGNUP_RATE_REQUESTS: '100000',
  MAX_PENDING_SOCKETS_PER_ADDRESS: '100000',
  AUTH_FAILURE_BUDGET: '100000',
  DRAIN_TIMEOUT_MS: '3000',
};

export async function startSystem(o: SystemOptions = {}): Promise<System> {
  const prefix = `chaos-${process.pid}-${Date.now().toString(36)}`;
  const dbName = prefix.replace(/-/g, '_');
  const exits: UnaskedExit[] = [];
  const onUnaskedExit = (e: UnaskedExit) => exits.push(e);
  const cluster = await startRabbitCluster({ size: 3 });
  const redis = await startRedisServer();
  const mongo: MongoHandle = await startMongo();
  const mongoProxy = await startTcpProxy({ port: Number(new URL(mongo.url).port) });
  const mongoUrl = mongoProxy.wrap(mongo.url);
  const common = { MONGO_URL: mongoUrl, MONGO_DB: dbName, REDIS_URL: redis.url, CHAT_PREFIX: prefix };
  const rotate = (first: number) => cluster.urls.map((_, k) => cluster.urls[(first + k) % cluster.urls.length]!);
  const amqpProxies: TcpProxy[] = [];
  const gateways: Service[] = [];
  const secret = `chaos-secret-${prefix}-0123456789abcdefghijklmnopqrstuvwxyz`;
  for (let i = 0; i < (o.gateways ?? 3); i++) {
    const [first, ...rest] = rotate(i);
    const proxy = await startTcpProxy({ port: Number(new URL(first!).port) });
    amqpProxies.push(proxy);
    const env = {
      ...common,
      ...GATEWAY_ENV,
      AMQP_URL: [proxy.wrap(first!), ...rest].join(','),
      PORT: String(await freePort()),
      SERVER_ID: `gw${i}`,
      JWT_SECRET: secret,
    };
    gateways.push(
      new Service({
        name: `gw${i}`,
        kind: 'gateway',
        main: GATEWAY_MAIN,
        env,
        readyLine: '"msg":"gateway listening"',
        onUnaskedExit,
      }),
    );
  }
  const persisters: Service[] = [];
  for (let i = 0; i < (o.persisters ?? 2); i++) {
    const env = {
      ...common,
      AMQP_URL: rotate(i + 1).join(','),
      SERVER_ID: `p${i}`,
      PERSISTER_HTTP_HOST: '127.0.0.1',
      PERSISTER_HTTP_PORT: String(await freePort()),
    };
    persisters.push(
      new Service({
        name: `p${i}`,
        kind: 'persister',
        main: PERSISTER_MAIN,
        env,
        readyLine: '"msg":"persister consuming"',
        onUnaskedExit,
      }),
    );
  }
  for (const p of persisters) await p.start();
  for (const g of gateways) await g.start();
  const nginx = await startNginx({
    port: await freePort(),
    gateways: gateways.map((g) => ({ port: Number(g.env.PORT) })),
    demoRoot: mkdtempSync(join(tmpdir(), 'chaos-demo-')),
  });
  return {
    prefix,
    dbName,
    mongoUrl,
    cluster,
    redis,
    mongoProxy,
    amqpProxies,
    gateways,
    persisters,
    nginx,
    exits,
    url: nginx.url,
    async stop() {
      for (const s of [...gateways, ...persisters]) await s.stop();
      await nginx.stop();
      for (const p of [...amqpProxies, mongoProxy]) await p.close();
      await redis.stop();
      await mongo.close();
      await cluster.stop();
    },
  };
}
