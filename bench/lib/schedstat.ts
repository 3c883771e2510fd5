// Time a process spent runnable but waiting for a CPU (run_delay in /proc/<pid>/task/*/schedstat,
// summed over its threads), as a percentage of the interval: on a 2-core machine under load this is
// what CPU% cannot show — a process at 30% CPU may have wanted far more.
import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessSet } from './system.js';

function runDelayNs(pid: number): number | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let total = 0;
  for (const t of tasks) {
    try {
      // "<time on CPU ns> <time waiting on a run queue ns> <timeslices>"
      total += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return total;
}

function sum(pids: readonly number[]): number | undefined {
  if (pids.length === 0) return undefined;
  let total = 0;
  for (const pid of pids) {
    const v = runDelayNs(pid);
    if (v === undefined) return undefined;
    total += v;
  }
  return total;
}

/** `const w = new RunQueueMeter({...}); …; w.stop()` → per name, % of the interval spent waiting for a CPU. */
export class RunQueueMeter {
  readonly #procs: Array<[string, number[]]>;
  readonly #start: Map<string, number | undefined>;
  readonly #at = performance.now();

  constructor(procs: ProcessSet) {
    this.#procs = Object.entries(procs).map(([name, p]) => [
      name,
      p === undefined ? [] : typeof p === 'number' ? [p] : [...p],
    ]);
    this.#start = new Map(this.#procs.map(([name, pids]) => [name, sum(pids)]));
  }

  stop(): Record<string, number | undefined> {
    const wallNs = (performance.now() - this.#at) * 1e6;
    const out: Record<string, number | undefined> = {};
    for (const [name, pids] of this.#procs) {
      const before = this.#start.get(name);
      const after = sum(pids);
      out[name] = before === undefined || after === undefined ? undefined : ((after - before) / wallNs) * 100;
    }
    return out;
  }
}
