// Every fault of issue #13, each a function that injects it, waits it out and heals it, resolving
// with its record. Targets are drawn from the seeded Rng so a schedule is reproducible.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultRecord } from './history.js';
import type { Rng } from './rng.js';
import type { Service } from './service.js';
import type { System } from './system.js';

export type FaultName =
  | 'gateway-sigkill'
  | 'gateway-sigterm'
  | 'persister-sigkill'
  | 'persister-sigterm'
  | 'leader-stop'
  | 'leader-kill'
  | 'gateway-node-stop'
  | 'gateway-node-kill'
  | 'pause-gateway'
  | 'pause-persister'
  | 'pause-broker-node'
  | 'mongo-down'
  | 'redis-down'
  | 'gateway-connections-closed'
  | 'gateway-broker-cut'
  | 'gateway-broker-delay';

export const ALL_FAULTS: readonly FaultName[] = [
  'gateway-sigkill',
  'gateway-sigterm',
  'persister-sigkill',
  'persister-sigterm',
  'leader-stop',
  'leader-kill',
  'gateway-node-stop',
  'gateway-node-kill',
  'pause-gateway',
  'pause-persister',
  'pause-broker-node',
  'mongo-down',
  'redis-down',
  'gateway-connections-closed',
  'gateway-broker-cut',
  'gateway-broker-delay',
];

type Injected = Omit<FaultRecord, 'name'>;

/** A process killed (or terminated) and started again at once, as a supervisor would. */
async function restartAfter(s: Service, signal: NodeJS.Signals): Promise<Injected> {
  const start = Date.now();
  await s.signal(signal);
  await s.start();
  return { target: s.name, component: s.kind, start, end: Date.now(), recoverFrom: start };
}

async function paused(s: Service): Promise<Injected> {
  const start = Date.now();
  await s.signal('SIGSTOP');
  await sleep(10_000);
  await s.signal('SIGCONT');
  const end = Date.now();
  return { target: s.name, component: s.kind, start, end, recoverFrom: end };
}

/** Stops (gracefully) or kills broker node i, keeps it down 10–20 s, starts it again. */
async function nodeLoss(sys: System, rng: Rng, i: number, how: 'stop' | 'kill'): Promise<Injected> {
  const start = Date.now();
  if (how === 'stop') await sys.cluster.stopNode(i);
  else await sys.cluster.killNode(i);
  await sleep(rng.int(10_000, 20_000));
  await sys.cluster.startNode(i);
  return { target: sys.cluster.nodeNames[i]!, component: 'broker', start, end: Date.now(), recoverFrom: start };
}

/** The node gateway k reaches through its proxy (its first AMQP URL). */
function gatewayNode(sys: System, k: number): number {
  return k % sys.cluster.urls.length;
}

/** Injects one fault and heals it. `outageMs`: how long MongoDB/Redis stay down (default: 10–30 s, seeded). */
export async function inject(name: FaultName, sys: System, rng: Rng, outageMs?: number): Promise<FaultRecord> {
  const outage = () => outageMs ?? rng.int(10_000, 30_000);
  const gwIndex = rng.int(0, sys.gateways.length - 1);
  const gw = sys.gateways[gwIndex]!;
  const persister = rng.pick(sys.persisters);
  let r: Injected;
  switch (name) {
    case 'gateway-sigkill':
      r = await restartAfter(gw, 'SIGKILL');
      break;
    case 'gateway-sigterm':
      r = await restartAfter(gw, 'SIGTERM');
      break;
    case 'persister-sigkill':
      r = await restartAfter(persister, 'SIGKILL');
      break;
    case 'persister-sigterm':
      r = await restartAfter(persister, 'SIGTERM');
      break;
    case 'leader-stop':
    case 'leader-kill': {
      const leader = await sys.cluster.quorumLeader(`${sys.prefix}.persist`);
      r = await nodeLoss(sys, rng, leader.index, name === 'leader-stop' ? 'stop' : 'kill');
      break;
    }
    case 'gateway-node-stop':
    case 'gateway-node-kill':
      r = await nodeLoss(sys, rng, gatewayNode(sys, gwIndex), name === 'gateway-node-stop' ? 'stop' : 'kill');
      break;
    case 'pause-gateway':
      r = await paused(gw);
      break;
    case 'pause-persister':
      r = await paused(persister);
      break;
    case 'pause-broker-node': {
      const i = rng.int(0, sys.cluster.urls.length - 1);
      const pid = sys.cluster.osPid(i)!;
      const start = Date.now();
      process.kill(pid, 'SIGSTOP');
      await sleep(10_000);
      process.kill(pid, 'SIGCONT');
      const end = Date.now();
      r = { target: sys.cluster.nodeNames[i]!, component: 'broker', start, end, recoverFrom: end };
      break;
    }
    case 'mongo-down': {
      const start = Date.now();
      sys.mongoProxy.cut();
      await sleep(outage());
      sys.mongoProxy.restore();
      const end = Date.now();
      r = { target: 'mongodb', component: 'mongo', start, end, recoverFrom: end };
      break;
    }
    case 'redis-down': {
      const start = Date.now();
      await sys.redis.kill();
      await sleep(outage());
      await sys.redis.start();
      const end = Date.now();
      r = { target: 'redis', component: 'redis', start, end, recoverFrom: end };
      break;
    }
    case 'gateway-connections-closed': {
      const start = Date.now();
      // One rabbitmqctl per node, in parallel: each boots an Erlang VM, tens of seconds on a busy machine.
      const nodes = sys.cluster.urls.map((_, i) => i).filter((i) => sys.cluster.isRunning(i));
      await Promise.all(nodes.map((i) => sys.cluster.closeClientConnections(i, `${sys.prefix}:${gw.name}:`)));
      r = { target: gw.name, component: 'gateway', start, end: Date.now(), recoverFrom: start };
      break;
    }
    case 'gateway-broker-cut': {
      const start = Date.now();
      sys.amqpProxies[gwIndex]!.cut();
      await sleep(rng.int(5_000, 15_000));
      sys.amqpProxies[gwIndex]!.restore();
      r = { target: gw.name, component: 'gateway', start, end: Date.now(), recoverFrom: start };
      break;
    }
    case 'gateway-broker-delay': {
      // Every byte between the gateway and its broker node held back 200–1,000 ms each way for 10–20 s:
      // confirms, deliveries and heartbeats slow down, nothing is lost.
      const proxy = sys.amqpProxies[gwIndex]!;
      const start = Date.now();
      proxy.delay(rng.int(200, 1_000));
      await sleep(rng.int(10_000, 20_000));
      proxy.delay(0);
      const end = Date.now();
      r = { target: gw.name, component: 'gateway', start, end, recoverFrom: end };
      break;
    }
  }
  return { name, ...r };
}
