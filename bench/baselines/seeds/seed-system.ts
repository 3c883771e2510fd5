// A seed design as a PeerSystem: start() writes the run's membership to a temporary file and spawns
// `options.servers` server processes (server-main.ts through tsx, as bench/lib/services.ts does), each
// on a free port of 127.0.0.1; for redis-map the Redis server is listed among its processes too.
// stop() ends the servers (SIGTERM; SIGKILL after 75 s, as a Green Go server may need a minute to
// unbind), then deletes every queue and exchange the design may have declared (names.ts) and every
// `<prefix>:…` Redis key. A server also exits by itself when this process is gone or when it is not
// listening in time, so a failed or abandoned run leaves no server behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { amqpUrl, deleteByPrefix, freePort, type ServiceProcess, spawnService } from '@chat/testkit';
import { diagnosticArgs } from '../../lib/profile.js';
import { deleteRedisKeys, REDIS_URL, redisPid } from '../../lib/services.js';
import type { PeerInstance, PeerStartOptions, PeerSystem } from '../peer.js';
import { DESCRIPTIONS, type SeedDesign } from './designs.js';
import { writeMembershipFile } from './membership.js';
import { type SeedNames, seedNames } from './names.js';

const SERVER_MAIN = fileURLToPath(new URL('./server-main.ts', import.meta.url));
const READY_LINE = '"msg":"seed server listening"';
/** Longer than server-main.ts gives its routing to close (60 s). */
const STOP_GRACE_MS = 75_000;
const START_TIMEOUT_MS = 90_000;

async function stopProcess(proc: ServiceProcess): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
  await proc.exited;
  clearTimeout(timer);
}

/** Deletes what the run may have created (deleting a name that does not exist is not an error). */
async function cleanup(url: string, prefix: string, names: SeedNames): Promise<void> {
  await deleteByPrefix(url, `${prefix}.`, { queues: names.queues, exchanges: names.exchanges });
  await deleteRedisKeys([`${prefix}:*`]);
}

export function seedSystem(design: SeedDesign): PeerSystem {
  return {
    name: design,
    description: DESCRIPTIONS[design],
    durable: false,
    async start(options: PeerStartOptions): Promise<PeerInstance> {
      if (!Number.isInteger(options.servers) || options.servers < 1 || options.servers > 64) {
        throw new RangeError(`servers must be an integer in 1..64, got ${options.servers}`);
      }
      const url = amqpUrl();
      const dir = await mkdtemp(join(tmpdir(), `seeds-${design}-`));
      const membershipFile = join(dir, 'membership.json');
      await writeMembershipFile(membershipFile, options.channels);
      const procs: ServiceProcess[] = [];
      let stopping: Promise<void> | undefined;
      const stop = () => {
        stopping ??= (async () => {
          await Promise.all(procs.map(stopProcess));
          await cleanup(url, options.prefix, seedNames(design, options.prefix, serverIds, options.users));
          await rm(dir, { recursive: true, force: true });
        })();
        return stopping;
      };
      const ports = await Promise.all(Array.from({ length: options.servers }, () => freePort()));
      const serverIds = ports.map((_, i) => `s${i}`);
      // Every start is awaited before giving up on any, so that no server is left starting unowned.
      const started = await Promise.allSettled(
        ports.map((port, i) => {
          const name = `${design}-${i}`;
          return spawnService({
            name,
            main: SERVER_MAIN,
            env: {
              SEED_DESIGN: design,
              SEED_SERVER_ID: serverIds[i]!,
              SEED_WORKER_ID: String(i),
              SEED_PREFIX: options.prefix,
              SEED_HOST: '127.0.0.1',
              SEED_PORT: String(port),
              SEED_MEMBERSHIP_FILE: membershipFile,
              // A server not listening by then exits by itself: a start that timed out here leaves no process.
              SEED_START_TIMEOUT_MS: String(START_TIMEOUT_MS - 10_000),
              JWT_SECRET: options.jwtSecret,
              AMQP_URL: url,
              REDIS_URL,
            },
            readyLine: READY_LINE,
            timeoutMs: START_TIMEOUT_MS,
            nodeArgs: diagnosticArgs(name),
          });
        }),
      );
      started.forEach((r, i) => {
        if (r.status === 'fulfilled') procs[i] = r.value;
      });
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) {
        await stop().catch(() => {});
        throw failed.reason;
      }
      const processes = procs.map((p, i) => ({ label: `${design}-${i}`, pid: p.child.pid! }));
      // The map lookups are this design's own cost (the broker is every system's, counted by the scenario).
      const redis = design === 'redis-map' ? await redisPid() : undefined;
      if (redis !== undefined) processes.push({ label: 'redis', pid: redis });
      return { urls: procs.map((_, i) => `ws://127.0.0.1:${ports[i]}/ws`), protocol: 'chat', processes, stop };
    },
  };
}
