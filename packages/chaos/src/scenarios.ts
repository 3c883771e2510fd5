// Scenarios 1–9 of issue #13 (and 10, network faults): which faults the nemesis draws (or plays in order), how far apart, and
// whether hostile clients run alongside the honest ones.
import { ALL_FAULTS, type FaultName } from './faults.js';
import type { NemesisPlan } from './nemesis.js';

export interface Scenario {
  name: string;
  title: string;
  plan: NemesisPlan;
  hostile: boolean;
  /** Default length of the workload, seconds. */
  durationS: number;
}

const rolling: FaultName[] = [
  'gateway-sigterm',
  'gateway-sigterm',
  'gateway-sigterm',
  'persister-sigterm',
  'persister-sigterm',
  'gateway-node-stop',
  'leader-stop',
  'redis-down',
  'mongo-down',
];

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'leader-loss',
    title: '1. persist-queue leader loss under load',
    plan: { faults: ['leader-stop', 'leader-kill'], gapMs: [10_000, 15_000] },
    hostile: false,
    durationS: 120,
  },
  {
    name: 'gateway-kill',
    title: '2. gateway SIGKILL every 10 s',
    plan: { faults: ['gateway-sigkill'], gapMs: [10_000, 10_000] },
    hostile: false,
    durationS: 120,
  },
  {
    name: 'persister-kill',
    title: '3. persister SIGKILL mid-batch',
    plan: { faults: ['persister-sigkill'], gapMs: [5_000, 10_000] },
    hostile: false,
    durationS: 120,
  },
  {
    name: 'mongo-outage',
    title: '4. MongoDB outage 30 s',
    plan: { faults: ['mongo-down'], gapMs: [15_000, 15_000], outageMs: 30_000 },
    hostile: false,
    durationS: 90,
  },
  {
    name: 'redis-outage',
    title: '5. Redis outage 30 s',
    // One outage (15–45 s), so that the run also shows writes with a nonce coming back after
    // NONCE_RECOVERY_MS (30 s) — a second outage would start before that.
    plan: { faults: ['redis-down'], inOrder: true, gapMs: [15_000, 15_000], outageMs: 30_000 },
    hostile: false,
    durationS: 90,
  },
  {
    name: 'rolling-restart',
    title: '6. rolling restart of every component, one at a time',
    plan: { faults: rolling, inOrder: true, gapMs: [5_000, 5_000] },
    hostile: false,
    durationS: 300,
  },
  {
    name: 'pause',
    title: '7. a process paused 10 s (gateway, persister, a broker node)',
    plan: { faults: ['pause-gateway', 'pause-persister', 'pause-broker-node'], inOrder: true, gapMs: [10_000, 10_000] },
    hostile: false,
    durationS: 90,
  },
  {
    name: 'hostile',
    title: '8. hostile clients alongside honest ones',
    plan: { faults: [], gapMs: [0, 0] },
    hostile: true,
    durationS: 60,
  },
  {
    name: 'network',
    title: '10. the link between a gateway and its broker node slowed and cut',
    plan: { faults: ['gateway-broker-delay', 'gateway-broker-cut'], inOrder: true, gapMs: [10_000, 10_000] },
    hostile: false,
    durationS: 90,
  },
  {
    name: 'mix',
    title: '9. everything mixed, seeded',
    plan: { faults: ALL_FAULTS, gapMs: [3_000, 8_000] },
    hostile: true,
    durationS: 300,
  },
];

export function scenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new RangeError(`unknown scenario ${name}; one of ${SCENARIOS.map((x) => x.name).join(', ')}`);
  return s;
}
