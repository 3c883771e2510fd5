// Diagnostics of a whole-system run, passed as Node flags to the processes it starts (`--cpu-prof` is
// refused in NODE_OPTIONS, so flags are the way):
// - `BENCH_CPU_PROF_DIR=<dir>`: every service and forked helper writes a V8 CPU profile into
//   `<dir>/<name>/` when it exits gracefully;
// - `BENCH_TRACE_GC=<name>[,<name>…]`: those forked helpers (mongo-stand-in, lg0, lg1, …) print a line
//   per garbage collection (`--trace-gc`) to the scenario's output — pauses and, for incremental
//   marking, the main-thread time it took, which a CPU profile does not show as one stall. (Services
//   get the flag too, but their output is kept for log checks, not printed.)
import { join } from 'node:path';

/** Node flags for the process called `name`: profiling and GC tracing as the environment asks. */
export function diagnosticArgs(name: string): string[] {
  const args: string[] = [];
  const dir = process.env.BENCH_CPU_PROF_DIR;
  if (dir) args.push('--cpu-prof', `--cpu-prof-dir=${join(dir, name)}`);
  const traced = (process.env.BENCH_TRACE_GC ?? '').split(',').map((s) => s.trim());
  if (traced.includes(name)) args.push('--trace-gc');
  return args;
}
