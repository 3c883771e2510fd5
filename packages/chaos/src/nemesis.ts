// The nemesis: injects faults on a seeded schedule, one at a time (each healed before the next), with
// a seeded gap between them, until its deadline; every fault is logged as it starts and ends (or why it
// could not be injected).
import { setTimeout as sleep } from 'node:timers/promises';
import { type FaultName, inject } from './faults.js';
import type { FaultRecord } from './history.js';
import type { Rng } from './rng.js';
import type { System } from './system.js';

export interface NemesisPlan {
  /** Faults drawn at random (seeded), or played in order when `inOrder` (a rolling restart). */
  faults: readonly FaultName[];
  inOrder?: boolean;
  /** Quiet time before each fault, ms. */
  gapMs: readonly [number, number];
  /** How long MongoDB/Redis outages last, ms (default 10–30 s, seeded). */
  outageMs?: number;
}

/** Runs the plan until `deadline` (no fault starts after it); resolves with what was injected. */
export async function runNemesis(
  sys: System,
  rng: Rng,
  plan: NemesisPlan,
  deadline: number,
  log: (line: string) => void,
): Promise<FaultRecord[]> {
  const done: FaultRecord[] = [];
  for (let n = 0; plan.faults.length > 0; n++) {
    if (plan.inOrder && n >= plan.faults.length) break;
    await sleep(rng.int(plan.gapMs[0], plan.gapMs[1]));
    if (Date.now() >= deadline) break;
    const name = plan.inOrder ? plan.faults[n]! : rng.pick(plan.faults);
    log(`nemesis: ${name} starts`);
    try {
      const f = await inject(name, sys, rng, plan.outageMs);
      log(`nemesis: ${name} on ${f.target} healed after ${f.end - f.start} ms`);
      done.push(f);
    } catch (err) {
      // E.g. the leader could not be read in time on a loaded machine: logged, skipped, the run goes on.
      log(`nemesis: ${name} not injected: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return done;
}
