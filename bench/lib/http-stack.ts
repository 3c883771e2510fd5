// The whole system behind nginx, started by a benchmark or a smoke test itself (no `npm start`
// needed): the MongoDB stand-in (a child process), a persister and N gateways spawned from their
// main.ts, and nginx rendered from the shipped template (infra/nginx) by testkit's startNginx, on
// free ports under a fresh CHAT_PREFIX. `close()` stops every process it started and removes what
// the run left on the broker and in Redis.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { amqpUrl, freePort, type Nginx, startNginx } from '@chat/testkit';
import {
  cleanupRun,
  type GatewayService,
  type PersisterService,
  REDIS_URL,
  runPrefix,
  type StackEnv,
  startGateway,
  startMongoProcess,
  startPersister,
} from './services.js';

export interface HttpStack {
  /** nginx: http://127.0.0.1:<port> */
  http: string;
  /** nginx: ws://127.0.0.1:<port>/ws */
  ws: string;
  env: StackEnv;
  secret: string;
  gateways: GatewayService[];
  persister: PersisterService;
  mongoUrl: string;
  /** Stops everything started here; `channelIds` get their Redis cache keys removed too. */
  close(channelIds?: readonly string[]): Promise<void>;
}

/** Gateway settings for load: abuse limits raised (they would throttle the benchmark), no default group. */
export const BENCH_GATEWAY_ENV: Record<string, string> = {
  DEFAULT_GROUP: '',
  RATE_FRAMES: '1000000',
  RATE_BURST: '1000000',
  USER_RATE_REQUESTS: '1000000',
  HTTP_RATE_REQUESTS: '1000000',
};

export async function startHttpStack(
  o: { label: string; gateways?: number; gatewayEnv?: Record<string, string> } = { label: 'http' },
): Promise<HttpStack> {
  const secret = randomBytes(32).toString('hex');
  const mongo = await startMongoProcess();
  const env: StackEnv = {
    prefix: runPrefix(o.label),
    amqpUrl: amqpUrl(),
    mongoUrl: mongo.url,
    mongoDb: 'chat',
    redisUrl: REDIS_URL,
  };
  const gateways: GatewayService[] = [];
  let persister: PersisterService | undefined;
  let nginx: Nginx | undefined;
  const close = async (channelIds: readonly string[] = []) => {
    await nginx?.stop().catch(() => {});
    await Promise.all(gateways.map((g) => g.stop()));
    await persister?.stop();
    await mongo.stop().catch(() => {});
    await cleanupRun(
      env.amqpUrl,
      env.prefix,
      gateways.map((g) => g.serverId),
      channelIds,
    ).catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
  };
  try {
    persister = await startPersister(env);
    for (let i = 0; i < (o.gateways ?? 2); i++) {
      gateways.push(await startGateway(env, `${env.prefix}-gw${i}`, secret, { ...BENCH_GATEWAY_ENV, ...o.gatewayEnv }));
    }
    const demoRoot = mkdtempSync(join(tmpdir(), 'bench-demo-'));
    writeFileSync(join(demoRoot, 'index.html'), '<!doctype html><title>bench</title>');
    const port = await freePort();
    nginx = await startNginx({ port, gateways: gateways.map((g) => ({ port: g.port })), demoRoot });
  } catch (err) {
    await close();
    throw err;
  }
  return {
    http: nginx.url,
    ws: `${nginx.url.replace(/^http/, 'ws')}/ws`,
    env,
    secret,
    gateways,
    persister,
    mongoUrl: mongo.url,
    close,
  };
}
