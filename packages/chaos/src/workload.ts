// The honest population: N users on @chat/client behind nginx, in DMs (pairs) and small groups, each
// sending at a steady rate to its channels and sometimes editing or deleting its own messages. A share
// of them connect through a TCP proxy the workload cuts now and then, so they drop (1006) and RESUME on
// their own. Everything goes into the run's history through RecordedClient.
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@chat/client';
import { startTcpProxy, type TcpProxy } from '@chat/testkit';
import type { ClientEvent } from './history.js';
import { membersOf } from './membership.js';
import { RecordedClient } from './recorder.js';
import type { Rng } from './rng.js';

export interface WorkloadOptions {
  clients: number;
  /** Messages per second per client. */
  ratePerClient: number;
  /** Share of clients behind the cuttable proxy. */
  flakyShare: number;
  groupSize: number;
}

export interface Population {
  clients: RecordedClient[];
  /** client name → user id. */
  users: Record<string, string>;
  /** channel → member user ids, as the server reported them (the default group included). */
  members: Record<string, string[]>;
  /** Channels each client sends to (its DMs and groups, not the default group). */
  targets: Map<string, string[]>;
  flakyProxy: TcpProxy;
  close(): Promise<void>;
}

const PASSWORD = 'chaos correct horse';

/** A client of the run with the SDK options the checker's coverage assumes (see coverage.ts). */
export function chaosClient(baseUrl: string) {
  return createClient({
    baseUrl,
    reconnect: { initialDelayMs: 100, maxDelayMs: 2_000 },
    // Longer than any fault's write → delivery delay (MongoDB down 30 s): a RESUME must reach back past it.
    resumeMarginMs: 90_000,
    requestTimeoutMs: 15_000,
  });
}

/** Signs up, groups and connects the population. */
export async function startPopulation(
  url: string,
  o: WorkloadOptions,
  rng: Rng,
  sink: (e: ClientEvent) => void,
): Promise<Population> {
  const nginxPort = Number(new URL(url).port);
  const flakyProxy = await startTcpProxy({ port: nginxPort });
  const flakyUrl = `http://127.0.0.1:${flakyProxy.port}`;
  const clients: RecordedClient[] = [];
  const users: Record<string, string> = {};
  const tag = Date.now().toString(36);
  for (let i = 0; i < o.clients; i += 10) {
    const batch = Array.from({ length: Math.min(10, o.clients - i) }, async (_, k) => {
      const name = `c${i + k}`;
      const flaky = rng.chance(o.flakyShare);
      const client = chaosClient(flaky ? flakyUrl : url);
      const username = `ch${tag}${name}`;
      await client.register(username, PASSWORD);
      const login = await client.login(username, PASSWORD);
      users[name] = login.user.id;
      return new RecordedClient(name, client, sink);
    });
    clients.push(...(await Promise.all(batch)));
  }
  clients.sort((a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1)));
  const targets = new Map<string, string[]>(clients.map((c) => [c.name, []]));
  // DMs between neighbours, groups of groupSize consecutive clients (owner: the first).
  for (let i = 0; i + 1 < clients.length; i += 2) {
    const [a, b] = [clients[i]!, clients[i + 1]!];
    const dm = await a.client.createChannel({ kind: 'dm', recipients: [users[b.name]!] });
    targets.get(a.name)!.push(dm.id);
    targets.get(b.name)!.push(dm.id);
  }
  for (let i = 0; i < clients.length; i += o.groupSize) {
    const group = clients.slice(i, i + o.groupSize);
    if (group.length < 2) break;
    const ch = await group[0]!.client.createChannel({
      kind: 'group',
      name: `g${i}`,
      recipients: group.slice(1).map((c) => users[c.name]!),
    });
    for (const c of group) targets.get(c.name)!.push(ch.id);
  }
  const members = await membersOf(clients, users);
  for (let i = 0; i < clients.length; i += 10)
    await Promise.all(clients.slice(i, i + 10).map((c) => c.client.connect()));
  return {
    clients,
    users,
    members,
    targets,
    flakyProxy,
    async close() {
      await Promise.all(clients.map((c) => c.client.close()));
      await flakyProxy.close();
    },
  };
}

/**
 * Every client sends at the steady rate until `stop` resolves; 10% of its turns edit and 5% delete one
 * of its own acked messages instead. The flaky proxy is cut for 1–3 s every 15–25 s.
 */
export async function chat(p: Population, o: WorkloadOptions, rng: Rng, stop: Promise<void>): Promise<void> {
  let running = true;
  void stop.then(() => {
    running = false;
  });
  const intervalMs = 1000 / o.ratePerClient;
  const loops = p.clients.map(async (c, i) => {
    const own: Array<{ channel: string; id: string }> = [];
    const channels = p.targets.get(c.name)!;
    if (channels.length === 0) return;
    await sleep((i * intervalMs) / p.clients.length);
    for (let n = 0; running; n++) {
      const started = Date.now();
      const roll = rng.next();
      if (roll < 0.05 && own.length > 0) {
        const [m] = own.splice(rng.int(0, own.length - 1), 1);
        await c.change(m!.channel, m!.id, null);
      } else if (roll < 0.15 && own.length > 0) {
        const m = own[rng.int(0, own.length - 1)]!;
        await c.change(m.channel, m.id, `${c.name} edit ${n}`);
      } else {
        const channel = rng.pick(channels);
        const id = await c.send(channel, `${c.name} #${n}`);
        if (id !== null) own.push({ channel, id });
      }
      await sleep(Math.max(0, intervalMs - (Date.now() - started)));
    }
  });
  const cutter = (async () => {
    while (running) {
      await Promise.race([sleep(rng.int(15_000, 25_000)), stop]);
      if (!running) break;
      p.flakyProxy.cut();
      await sleep(rng.int(1_000, 3_000));
      p.flakyProxy.restore();
    }
  })();
  await Promise.all([...loops, cutter]);
}
