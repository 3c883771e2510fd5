// A seed server process: the shared chat-protocol server with one design's routing, configured by
// its environment (server-config.ts). Prints `{"msg":"seed server listening",…}` when clients may
// connect; on SIGTERM/SIGINT closes its sockets, removes what its routing created, and exits.
// Logs are JSON lines; each kind of error is logged once.
import { startChatServer } from './chat-server.js';
import type { SeedDesign } from './designs.js';
import { LocalSockets } from './local-sockets.js';
import { readMembershipFile } from './membership.js';
import type { RoutingFactory } from './routing.js';
import { fanout } from './routing-fanout.js';
import { greenGo } from './routing-green-go.js';
import { queuePerUser } from './routing-queue-per-user.js';
import { redisMap } from './routing-redis-map.js';
import { loadSeedServerConfig } from './server-config.js';

const CLOSE_LIMIT_MS = 60_000;

const ROUTINGS: Readonly<Record<SeedDesign, RoutingFactory>> = {
  'queue-per-user': queuePerUser,
  'redis-map': redisMap,
  fanout,
  'green-go-user': greenGo('user'),
  'green-go-slot': greenGo('slot'),
};

function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, time: Date.now(), msg, ...fields });
  if (level === 'info') process.stdout.write(`${line}\n`);
  else process.stderr.write(`${line}\n`);
}

const logged = new Set<string>();
function onError(kind: string, err: unknown): void {
  if (logged.has(kind)) return;
  logged.add(kind);
  log('warn', `${kind} failed (further ${kind} errors are not logged)`, {
    err: String((err as Error)?.message ?? err),
  });
}

/** Exits when the parent that spawned this server is gone (it would otherwise run on, unowned). */
function exitWithParent(onGone: () => void): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) onGone();
  }, 1000).unref();
}

async function main(): Promise<void> {
  const config = loadSeedServerConfig();
  const startDeadline = setTimeout(() => {
    log('error', `not listening ${config.startTimeoutMs} ms after start; exiting`);
    process.exit(1);
  }, config.startTimeoutMs);
  const membership = await readMembershipFile(config.membershipFile);
  const local = new LocalSockets(membership);
  let stopping = false;
  const routing = await ROUTINGS[config.design]({
    serverId: config.serverId,
    prefix: config.prefix,
    amqpUrl: config.amqpUrl,
    redisUrl: config.redisUrl,
    membership,
    deliver: local,
    fail(reason, err) {
      if (stopping) return;
      log('error', `${reason}: stopping (these baselines do not recover)`, { err: String(err ?? '') });
      process.exit(1);
    },
    onError,
  });
  const server = await startChatServer({ ...config, membership, local, routing, onError });
  clearTimeout(startDeadline);
  log('info', 'seed server listening', { design: config.design, server_id: config.serverId, port: server.port });

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.close();
    // Green Go drains by unbinding every key first (deleting a queue that still holds thousands of
    // bindings can stall the broker for tens of seconds, RabbitMQ #12926): ~10k user keys take a while.
    const timer = setTimeout(() => {
      log('warn', `routing did not close in ${CLOSE_LIMIT_MS / 1000} s; exiting`);
      process.exit(1);
    }, CLOSE_LIMIT_MS);
    await routing.close().catch((err) => onError('close', err));
    clearTimeout(timer);
    log('info', 'seed server stopped', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  exitWithParent(() => void stop('parent gone'));
}

main().catch((err) => {
  log('error', 'seed server failed to start', { err: String((err as Error)?.stack ?? err) });
  process.exit(1);
});
