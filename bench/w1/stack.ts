// W1's system, started for one run: the MongoDB stand-in, a persister, 2 gateway processes (gw0, gw1)
// on a fresh prefix, N users registered through the HTTP API (u0..u<N-1>, scrypt), their DM channels
// (K rounds of random pairing, lib/dm-pairs.ts), and two load-generator processes (lib/ws-loadgen.ts),
// one per gateway, each connecting that gateway's half of the users from its own source address.
// `stop` undoes whatever `start` got to, also after a failure half-way.
import { randomBytes } from 'node:crypto';
import { gatewayQueueName, slotOf } from '@chat/router';
import { ChildHandle, stopLoaders } from '../lib/child.js';
import { dmPairs } from '../lib/dm-pairs.js';
import {
  cleanupRun,
  type GatewayService,
  type PersisterService,
  REDIS_URL,
  redisPid,
  runPrefix,
  type StackEnv,
  startGateway,
  startMongoProcess,
  startPersister,
} from '../lib/services.js';
import { systemBrokerPid } from '../lib/system.js';
import { fmt } from '../lib/table.js';
import { type BenchUser, createDm, pool, registerUsers } from '../lib/users.js';

/** Limits meant for abuse would throttle the benchmark itself: raised; everything else is default. */
const GATEWAY_ENV = {
  DEFAULT_GROUP: '',
  RATE_FRAMES: '1000000',
  RATE_BURST: '1000000',
  USER_RATE_REQUESTS: '1000000',
  HTTP_RATE_REQUESTS: '1000000',
};
const SERVER_IDS = ['gw0', 'gw1'];

/** Which gateway (and load generator) user n is on. */
export const gatewayOf = (n: number) => n % 2;

export class W1Stack {
  readonly prefix = runPrefix('w1');
  readonly serverIds = SERVER_IDS;
  gateways: GatewayService[] = [];
  persister: PersisterService | undefined;
  loadgens: ChildHandle[] = [];
  users: BenchUser[] = [];
  pairs: Array<[number, number]> = [];
  channelIds: string[] = [];
  /** The persist queue and both gateway queues. */
  readonly queues: string[];
  /** Every process measured (CPU, run queue), by column name. */
  procs: Record<string, number | undefined> = {};
  #mongo: Awaited<ReturnType<typeof startMongoProcess>> | undefined;

  constructor(readonly broker: string) {
    this.queues = [`${this.prefix}.persist`, ...SERVER_IDS.map((id) => gatewayQueueName(this.prefix, id))];
  }

  /** Starts everything and connects `clients` users with up to `partners` DM partners each. */
  async start(clients: number, partners: number): Promise<void> {
    const [brokerPid, redisServerPid] = [await systemBrokerPid(), await redisPid()];
    const secret = randomBytes(32).toString('hex');
    this.#mongo = await startMongoProcess();
    const stack: StackEnv = {
      prefix: this.prefix,
      amqpUrl: this.broker,
      mongoUrl: this.#mongo.url,
      mongoDb: this.prefix.replace(/-/g, '_'),
      redisUrl: REDIS_URL,
    };
    this.persister = await startPersister(stack, {});
    for (const id of SERVER_IDS) this.gateways.push(await startGateway(stack, id, secret, GATEWAY_ENV));
    const gwUrls = this.gateways.map((g) => g.url);

    console.log(`registering ${clients} users u0..u${clients - 1} through the HTTP API (scrypt) …`);
    let t = performance.now();
    const users = await registerUsers(gwUrls, secret, clients);
    this.users = users;
    console.log(`  ${fmt((performance.now() - t) / 1000)} s`);

    this.pairs = dmPairs(users.length, partners);
    console.log(`creating ${this.pairs.length} DM channels through the HTTP API …`);
    t = performance.now();
    const channelsOf: string[][] = users.map(() => []);
    const ids = await pool(this.pairs, 16, ([a, b]) => createDm(gwUrls[a % 2]!, users[a]!, users[b]!));
    this.pairs.forEach(([a, b], i) => {
      channelsOf[a]!.push(ids[i]!);
      channelsOf[b]!.push(ids[i]!);
    });
    this.channelIds.push(...ids);
    console.log(`  ${fmt((performance.now() - t) / 1000)} s`);

    for (let g = 0; g < 2; g++) {
      this.loadgens.push(new ChildHandle(`lg${g}`, new URL('../lib/ws-loadgen.ts', import.meta.url)));
    }
    console.log(`connecting ${clients} clients (half on each gateway) …`);
    t = performance.now();
    const mine = [0, 1].map((g) => users.filter((u) => gatewayOf(u.n) === g));
    const opened = await Promise.all(
      this.loadgens.map((lg, g) =>
        lg.call<{ ready: number; total: number }>(
          'open',
          {
            url: this.gateways[g]!.wsUrl,
            localAddress: `127.0.0.${21 + g}`,
            clients: mine[g]!.map((u) => ({ token: u.token, user: u.n })),
            concurrency: 100,
          },
          5 * 60_000,
        ),
      ),
    );
    const ready = opened.reduce((n, o) => n + o.ready, 0);
    console.log(`  ${ready} of ${clients} identified in ${fmt((performance.now() - t) / 1000)} s`);
    if (ready < clients) throw new Error(`only ${ready} of ${clients} clients identified`);
    await Promise.all(
      this.loadgens.map((lg, g) => lg.call('configure', { channels: mine[g]!.map((u) => channelsOf[u.n]) })),
    );
    this.procs = {
      gw0: this.gateways[0]!.pid,
      gw1: this.gateways[1]!.pid,
      persister: this.persister.pid,
      standIn: this.#mongo.pid,
      broker: brokerPid,
      redis: redisServerPid,
      lg0: this.loadgens[0]!.pid,
      lg1: this.loadgens[1]!.pid,
      bench: process.pid,
    };
  }

  /**
   * Where a DM's copies go: one publish per partition of its members' slots. Shares of the DM pairs
   * that span the two gateways, and that sit on one gateway in two partitions.
   */
  placement(): { crossGateway: number; sameGwTwoPartitions: number } {
    const partitionOf = (u: BenchUser) => slotOf(u.id, 1024) % 16;
    const n = this.pairs.length;
    return {
      crossGateway: this.pairs.filter(([a, b]) => gatewayOf(a) !== gatewayOf(b)).length / n,
      sameGwTwoPartitions:
        this.pairs.filter(
          ([a, b]) => gatewayOf(a) === gatewayOf(b) && partitionOf(this.users[a]!) !== partitionOf(this.users[b]!),
        ).length / n,
    };
  }

  /** Warnings and errors each service logged (pino JSON, level ≥ 40), counted by message. */
  logged(): Record<string, Record<string, number>> {
    const services = [...this.gateways, ...(this.persister ? [this.persister] : [])];
    return Object.fromEntries(services.map((svc) => [svc.name, warnings(svc.logs)] as const));
  }

  async stop(): Promise<void> {
    await stopLoaders(this.loadgens);
    for (const g of this.gateways) await g.stop('SIGTERM', 20_000).catch(() => {});
    await this.persister?.stop('SIGTERM', 20_000).catch(() => {});
    await cleanupRun(this.broker, this.prefix, this.serverIds, this.channelIds).catch((err: unknown) =>
      console.error(`cleanup of ${this.prefix} failed: ${(err as Error).message}`),
    );
    await this.#mongo?.stop().catch(() => {});
  }
}

function warnings(logs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of logs) {
    try {
      const rec = JSON.parse(line) as { level?: number; msg?: string; err?: unknown };
      if ((rec.level ?? 0) >= 40) {
        const key = `${rec.msg ?? '?'}${typeof rec.err === 'string' ? ` (${rec.err.slice(0, 80)})` : ''}`;
        out[key] = (out[key] ?? 0) + 1;
      }
    } catch {
      // not a log record
    }
  }
  return out;
}
