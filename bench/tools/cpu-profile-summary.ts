// Self and inclusive time of a V8 CPU profile (`node --cpu-prof`, or BENCH_CPU_PROF_DIR of any scenario) by
// package and by function, as shares of the process's busy time (everything but `(idle)`).
//   node --import tsx bench/tools/cpu-profile-summary.ts <file.cpuprofile|dir> [top=15]
//        [--timeline] [--from <s>] [--to <s>]
// A directory: every .cpuprofile in it, added up (one process's profiles: its main thread and its workers).
// --timeline prints the busy ms of every second since the profile started, to find a step's seconds;
// --from/--to keep only the samples of those seconds (since each profile's start), e.g. one W1 step.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package a script belongs to: a node_modules package, a workspace package, or Node itself. */
export function packageOf(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const ws = /\/(packages|bench)\/([^/]+)\//.exec(url);
  if (ws) return ws[1] === 'bench' ? 'bench' : `@chat/${ws[2]}`;
  if (url.startsWith('node:')) return 'node:internal';
  return url;
}

function files(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f));
}

/** `function package file:line`, the key of the by-function tables. */
function functionName(frame: ProfileNode['callFrame']): string {
  const pkg = packageOf(frame.url, frame.functionName);
  const file = frame.url.split('/').slice(-1)[0] ?? '';
  return `${frame.functionName || '(anonymous)'} ${pkg === file ? '' : `${pkg} `}${file}:${frame.lineNumber + 1}`;
}

function add<K>(m: Map<K, number>, k: K, us: number): void {
  m.set(k, (m.get(k) ?? 0) + us);
}

export interface ProfileSummary {
  /** Busy µs within the window, idle µs over the whole profiles. */
  busyUs: number;
  idleUs: number;
  byPackage: Map<string, number>;
  byFunction: Map<string, number>;
  /** µs with the function anywhere on the stack (once per sample, however deep it recurses). */
  inclusive: Map<string, number>;
  /** Busy µs per whole second since each profile's start, whatever the window. */
  perSecond: Map<number, number>;
}

/** Adds up the profiles' samples, those from `fromS` (inclusive) to `toS` (exclusive) seconds after each one's start. */
export function summarise(profiles: readonly Profile[], window: { fromS?: number; toS?: number } = {}): ProfileSummary {
  const fromUs = (window.fromS ?? 0) * 1e6;
  const toUs = window.toS === undefined ? Number.POSITIVE_INFINITY : window.toS * 1e6;
  const out: ProfileSummary = {
    busyUs: 0,
    idleUs: 0,
    byPackage: new Map(),
    byFunction: new Map(),
    inclusive: new Map(),
    perSecond: new Map(),
  };
  for (const p of profiles) {
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const names = new Map(p.nodes.map((n) => [n.id, functionName(n.callFrame)]));
    let sinceStart = 0;
    p.samples.forEach((id, i) => {
      const us = p.timeDeltas[i] ?? 0;
      sinceStart += us;
      const frame = nodes.get(id)!.callFrame;
      if (frame.functionName === '(idle)') {
        out.idleUs += us;
        return;
      }
      add(out.perSecond, Math.floor(sinceStart / 1e6), us);
      if (sinceStart < fromUs || sinceStart >= toUs) return;
      out.busyUs += us;
      add(out.byPackage, packageOf(frame.url, frame.functionName), us);
      add(out.byFunction, names.get(id)!, us);
      const onStack = new Set<string>();
      for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) onStack.add(names.get(n)!);
      for (const name of onStack) add(out.inclusive, name, us);
    });
  }
  return out;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { timeline: { type: 'boolean' }, from: { type: 'string' }, to: { type: 'string' } },
  });
  const [path, topArg] = positionals;
  if (!path) {
    console.error('usage: cpu-profile-summary.ts <file.cpuprofile|dir> [top] [--timeline] [--from <s>] [--to <s>]');
    process.exit(2);
  }
  const top = Number(topArg ?? 15);
  const profiles = files(path).map((f) => JSON.parse(readFileSync(f, 'utf8')) as Profile);
  const sum = summarise(profiles, {
    fromS: values.from === undefined ? undefined : Number(values.from),
    toS: values.to === undefined ? undefined : Number(values.to),
  });
  if (values.timeline) {
    const seconds = [...sum.perSecond].sort((a, b) => a[0] - b[0]);
    console.log('busy ms per second since the profile started (all threads):');
    console.log(seconds.map(([s, us]) => `${s}:${Math.round(us / 1000)}`).join(' '));
    return;
  }
  const share = (us: number) => `${((100 * us) / sum.busyUs).toFixed(1)}%`;
  const window = values.from || values.to ? ` in seconds ${values.from ?? 0}–${values.to ?? 'end'}` : '';
  console.log(
    `busy ${(sum.busyUs / 1e6).toFixed(2)} s${window}, idle ${(sum.idleUs / 1e6).toFixed(2)} s (whole profile)`,
  );
  const print = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`  ${share(us).padStart(6)}  ${(us / 1e6).toFixed(2).padStart(6)} s  ${k}`);
    }
  };
  print('self time by package', sum.byPackage);
  print('self time by function', sum.byFunction);
  print('inclusive time by function (on the stack)', sum.inclusive);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
