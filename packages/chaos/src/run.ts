// One scenario run: start the system, the population (and hostiles), chat at a steady rate while the
// nemesis works, stop sending, wait until every honest client is connected again and deliveries have
// settled, read the store, stop everything, and check the history.
import { setTimeout as sleep } from 'node:timers/promises';
import { type CheckResult, check } from './checker.js';
import type { ClientEvent, History } from './history.js';
import { type Hostiles, startHostiles } from './hostile.js';
import { runNemesis } from './nemesis.js';
import { Rng } from './rng.js';
import type { Scenario } from './scenarios.js';
import { readStored } from './stored.js';
import { startSystem } from './system.js';
import { chat, startPopulation, type WorkloadOptions } from './workload.js';

export interface RunOptions {
  seed: number;
  clients: number;
  durationS: number;
  /** Messages per second per client. Default 0.5. */
  ratePerClient?: number;
  log: (line: string) => void;
}

export interface RunOutcome {
  history: History;
  result: CheckResult;
  hostile: Hostiles['counts'] | null;
}

/** After the workload stops: the longest wait for honest clients to be connected again, and the settle time after. */
const RECONNECT_WAIT_MS = 60_000;
const SETTLE_MS = 10_000;

export async function runScenario(sc: Scenario, o: RunOptions): Promise<RunOutcome> {
  const events: ClientEvent[] = [];
  const sink = (e: ClientEvent) => events.push(e);
  o.log(`${sc.name}: starting the system (3 RabbitMQ nodes, Redis, MongoDB, nginx, 3 gateways, 2 persisters)`);
  const sys = await startSystem();
  try {
    const wopts: WorkloadOptions = {
      clients: o.clients,
      ratePerClient: o.ratePerClient ?? 0.5,
      flakyShare: 0.2,
      groupSize: 5,
    };
    o.log(`${sc.name}: signing up and connecting ${o.clients} clients`);
    const pop = await startPopulation(sys.url, wopts, new Rng(o.seed + 1), sink);
    const honestChannels = [...new Set([...pop.targets.values()].flat())];
    const hostiles = sc.hostile ? await startHostiles(sys.url, honestChannels, new Rng(o.seed + 2), sink) : null;
    const started = Date.now();
    let stopWorkload!: () => void;
    const stop = new Promise<void>((r) => {
      stopWorkload = r;
    });
    o.log(`${sc.name}: chatting for ${o.durationS} s, seed ${o.seed}`);
    const chatting = chat(pop, wopts, new Rng(o.seed + 3), stop);
    const hostileRun = hostiles?.run(stop);
    const deadline = started + o.durationS * 1000;
    const faults = await runNemesis(sys, new Rng(o.seed), sc.plan, deadline, o.log);
    await sleep(Math.max(0, deadline - Date.now()));
    stopWorkload();
    await Promise.all([chatting, hostileRun]);
    const stoppedAt = Date.now();
    const waitUntil = stoppedAt + RECONNECT_WAIT_MS;
    while (Date.now() < waitUntil && pop.clients.some((c) => c.client.state !== 'open')) await sleep(250);
    await sleep(SETTLE_MS);
    const endedAt = Date.now();
    const stored = await readStored(sys.mongoUrl, sys.dbName);
    await pop.close();
    await hostiles?.close();
    const members: Record<string, string[]> = { ...pop.members };
    for (const [ch, us] of Object.entries(hostiles?.members ?? {})) members[ch] = [...(members[ch] ?? []), ...us];
    const history: History = {
      users: { ...pop.users, ...hostiles?.users },
      members,
      honest: pop.clients.map((c) => c.name),
      events,
      faults,
      exits: [...sys.exits],
      stored,
      stoppedAt,
      endedAt,
    };
    return { history, result: check(history), hostile: hostiles?.counts ?? null };
  } finally {
    await sys.stop();
  }
}
