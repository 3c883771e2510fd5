// defineScenario's process glue, through a fixture scenario run with tsx as the npm scripts run the
// real ones: --help exits 0 without running, a usage error exits 2 with the usage, a run exits with
// the code its body returned, after the `Command:` line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/scenario-fixture.ts', import.meta.url));

function run(args: string[]) {
  const res = spawnSync(process.execPath, ['--conditions=@chat/source', '--import', 'tsx', FIXTURE, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

test('--help prints the help and exits 0 without running', () => {
  const r = run(['--help']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^defineScenario test fixture\nusage: npm run -w @chat\/bench fixture -- \[--count N\]/);
  assert.match(r.out, /--count N +how many \(default 10; --quick 2; 1\.\.100\)/);
  assert.doesNotMatch(r.out, /FIXTURE-SUMMARY|Command:/);
});

test('an unknown flag or a value out of bounds prints the reason and the usage, and exits 2', () => {
  const unknown = run(['--bogus']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /Unknown option '--bogus'[\s\S]*usage: npm run -w @chat\/bench fixture --/);
  const bad = run(['--count', '101']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--count must be an integer in 1\.\.100, got '101'/);
  assert.doesNotMatch(unknown.out + bad.out, /Command:|FIXTURE-SUMMARY/);
});

test('a run prints its command, runs with the quick values, and exits with the code it returned', () => {
  const r = run(['--quick', '--code', '5']);
  assert.equal(r.code, 5, r.err);
  assert.match(
    r.out,
    /^Command: .*scenario-fixture\.ts --quick --code 5\nFIXTURE-SUMMARY \{"count":2,"quick":true\}\n/,
  );
});
