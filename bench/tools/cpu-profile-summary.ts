// Self time of a V8 CPU profile (`node --cpu-prof`, or BENCH_CPU_PROF_DIR of any scenario) by package
// and by function, as shares of the process's busy time (everything but `(idle)`).
//   node --import tsx bench/tools/cpu-profile-summary.ts <file.cpuprofile|dir> [top=15]
// A directory: every .cpuprofile in it, added up (one process's profiles).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
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

function main(): void {
  const [path, topArg] = process.argv.slice(2);
  if (!path) {
    console.error('usage: cpu-profile-summary.ts <file.cpuprofile|dir> [top]');
    process.exit(2);
  }
  const top = Number(topArg ?? 15);
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const f of files(path)) {
    const p = JSON.parse(readFileSync(f, 'utf8')) as Profile;
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    p.samples.forEach((id, i) => {
      const us = p.timeDeltas[i] ?? 0;
      const frame = nodes.get(id)!.callFrame;
      if (frame.functionName === '(idle)') {
        idle += us;
        return;
      }
      busy += us;
      const pkg = packageOf(frame.url, frame.functionName);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
      const file = frame.url.split('/').slice(-1)[0] ?? '';
      const fn = `${frame.functionName || '(anonymous)'} ${pkg === file ? '' : `${pkg} `}${file}:${frame.lineNumber + 1}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    });
  }
  const share = (us: number) => `${((100 * us) / busy).toFixed(1)}%`;
  console.log(`busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`);
  const print = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`  ${share(us).padStart(6)}  ${(us / 1e6).toFixed(2).padStart(6)} s  ${k}`);
    }
  };
  print('self time by package', byPackage);
  print('self time by function', byFunction);
}

main();
