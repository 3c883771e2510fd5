// For the CI smoke tests of the benchmark scenarios: runs `<scenario>.ts --quick` from bench/ as its
// npm script does (tsx, source conditions) and hands back its exit code, its output, and the JSON of
// its one-line summary (`<PREFIX>-SUMMARY {json}`), so that a test asserts on figures, not on text.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../', import.meta.url));

/**
 * Runs the scenario with --quick (and `extraArgs`), asserts it exited 0 and printed its summary line;
 * resolves with the summary and the output.
 */
export async function runQuick<T>(
  scenario: string,
  summaryPrefix: string,
  extraArgs: readonly string[] = [],
): Promise<{ summary: T; out: string }> {
  const out = await runQuickOk(scenario, extraArgs);
  const line = out.split('\n').find((l) => l.startsWith(`${summaryPrefix} `));
  assert.ok(line, `no ${summaryPrefix} line in:\n${out.slice(-3000)}`);
  return { summary: JSON.parse(line.slice(summaryPrefix.length + 1)) as T, out };
}

/**
 * Runs the scenario with --quick (and `extraArgs`), asserts it exited 0 (a scenario exits 1 when its
 * own checks fail, printing `FAILED: …`); resolves with its standard output.
 */
export async function runQuickOk(scenario: string, extraArgs: readonly string[] = []): Promise<string> {
  const args = ['--conditions=@chat/source', '--import', 'tsx', `${scenario}.ts`, '--quick', ...extraArgs];
  const child = spawn(process.execPath, args, {
    cwd: BENCH,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(code, 0, `${scenario} --quick failed:\n${out.slice(-3000)}\n${err.slice(-3000)}`);
  return out;
}
