// The local runner (`npm start`, scripts/start.mjs) as the e2e tests start it: its own ports and its own
// names on the shared broker, Redis and database, and the clean-up of the topology it declared.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { topologyNames } from '@chat/router';
import { amqpUrl, deleteByPrefix } from '@chat/testkit';
import { freePort } from './stack.js';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface RunnerPorts {
  http: number;
  gatewayBase: number;
  persister: number;
}

export async function runnerPorts(): Promise<RunnerPorts> {
  return {
    http: await freePort(),
    gatewayBase: 20_000 + Math.floor(Math.random() * 5000),
    persister: await freePort(),
  };
}

/** Environment of a runner with `gateways` gateways on `ports`, named after `name`. */
export function runnerEnv(ports: RunnerPorts, gateways: number, name: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CHAT_FROM_SOURCE: '1',
    GATEWAYS: String(gateways),
    HTTP_PORT: String(ports.http),
    GATEWAY_BASE_PORT: String(ports.gatewayBase),
    PERSISTER_HTTP_PORT: String(ports.persister),
    CHAT_PREFIX: name,
    MONGO_DB: name,
  };
}

/** Deletes the exchanges and queues a runner named `name` declared on the shared broker. */
export async function deleteRunnerTopology(name: string): Promise<void> {
  const names = topologyNames(name, 16);
  await deleteByPrefix(amqpUrl(), name, {
    queues: [names.persistQueue, names.deadQueue],
    exchanges: [names.frontExchange, ...names.routeExchanges, names.deadExchange],
  });
}

/** Every live descendant of `pid` (read from /proc), children before grandchildren. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited while listing
    }
  }
  const out: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const [child, ppid] of parentOf) if (frontier.includes(ppid)) next.push(child);
    out.push(...next);
    frontier = next;
  }
  return out;
}

/** Whether `pid` names a process that has not been reaped (zombies count as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Whether nothing listens on 127.0.0.1:`port` (this process can bind it). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
