// CPU profiles of a whole-system run: `BENCH_CPU_PROF_DIR=<dir> npm run -w @chat/bench <scenario>`
// makes every service and forked helper write a V8 CPU profile into `<dir>/<name>/` when it exits
// gracefully (`--cpu-prof` is refused in NODE_OPTIONS, so it is passed as a flag here).
import { join } from 'node:path';

/** Node flags that profile the process called `name`, or none when BENCH_CPU_PROF_DIR is unset. */
export function profileArgs(name: string): string[] {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, name)}`] : [];
}
