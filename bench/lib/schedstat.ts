// Scheduler accounting of a process from /proc/<pid>/task/*/schedstat, summed over its threads:
// - run delay: time it was runnable but waiting for a CPU, as a percentage of the interval. On a
//   2-core machine under load this is what CPU% cannot show: a process at 30% CPU may have wanted more;
// - timeslices: how many times one of its threads was put on a CPU (after a wake-up or a preemption),
//   per second. Each costs a fixed price whatever work follows (on these virtual machines 50–200 µs of
//   CPU for an idle Node process woken by a timer: bench/tools/wake-cost.ts), so slices per message
//   say how much of a light load's cost is waking up rather than working.
import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessSet } from './system.js';

interface Counters {
  runDelayNs: number;
  slices: number;
}

function countersOf(pid: number): Counters | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  const total = { runDelayNs: 0, slices: 0 };
  for (const t of tasks) {
    try {
      // "<time on CPU ns> <time waiting on a run queue ns> <timeslices>"
      const fields = readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ');
      total.runDelayNs += Number(fields[1]);
      total.slices += Number(fields[2]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return total;
}

function sum(pids: readonly number[]): Counters | undefined {
  if (pids.length === 0) return undefined;
  const total = { runDelayNs: 0, slices: 0 };
  for (const pid of pids) {
    const c = countersOf(pid);
    if (c === undefined) return undefined;
    total.runDelayNs += c.runDelayNs;
    total.slices += c.slices;
  }
  return total;
}

export interface SchedReading {
  /** Per name: % of the interval spent waiting for a CPU. */
  runQueue: Record<string, number | undefined>;
  /** Per name: times per second a thread of it was put on a CPU. */
  slicesPerSec: Record<string, number | undefined>;
}

/** `const w = new SchedMeter({...}); …; w.stop()` → per name, run delay and timeslices over the interval. */
export class SchedMeter {
  readonly #procs: Array<[string, number[]]>;
  readonly #start: Map<string, Counters | undefined>;
  readonly #at = performance.now();

  constructor(procs: ProcessSet) {
    this.#procs = Object.entries(procs).map(([name, p]) => [
      name,
      p === undefined ? [] : typeof p === 'number' ? [p] : [...p],
    ]);
    this.#start = new Map(this.#procs.map(([name, pids]) => [name, sum(pids)]));
  }

  stop(): SchedReading {
    const wallMs = performance.now() - this.#at;
    const out: SchedReading = { runQueue: {}, slicesPerSec: {} };
    for (const [name, pids] of this.#procs) {
      const before = this.#start.get(name);
      const after = sum(pids);
      const ok = before !== undefined && after !== undefined;
      out.runQueue[name] = ok ? ((after.runDelayNs - before.runDelayNs) / (wallMs * 1e6)) * 100 : undefined;
      out.slicesPerSec[name] = ok ? (after.slices - before.slices) / (wallMs / 1000) : undefined;
    }
    return out;
  }
}
