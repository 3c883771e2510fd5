// CI hook for bench W3 (idle connections, gateway memory per connection): runs `w3 --quick` — a few
// hundred sockets on real gateway processes, default group on, one and many sockets per user — and
// checks that it completed and reported well-formed figures. The figures themselves are not asserted
// (memory on a shared machine is not a pass/fail signal); they go into bench/results from full runs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../../../../bench/', import.meta.url));

interface Phase {
  label: string;
  perUser: number;
  requested: number;
  ready: number;
  kibPerConnection: number;
  heapKibPerConnection: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  rssAfterCloseKiB: number;
}

describe('bench w3 --quick', () => {
  it('opens, identifies and closes a few hundred idle sockets (one and many per user) and reports memory per connection', async () => {
    const child = spawn(process.execPath, ['--conditions=@chat/source', '--import', 'tsx', 'w3.ts', '--quick'], {
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
    assert.equal(code, 0, `w3 --quick failed:\n${out.slice(-3000)}\n${err.slice(-3000)}`);
    const line = out.split('\n').find((l) => l.startsWith('W3-SUMMARY '));
    assert.ok(line, `no W3-SUMMARY line in:\n${out.slice(-3000)}`);
    const phases = JSON.parse(line.slice('W3-SUMMARY '.length)) as Phase[];
    assert.deepEqual(
      phases.map((p) => p.perUser > 1),
      [false, true],
      'one socket per user, then many',
    );
    for (const p of phases) {
      assert.ok(p.requested >= 100, p.label);
      assert.equal(p.ready, p.requested, `${p.label}: every socket identified`);
      for (const k of ['rssBeforeKiB', 'rssAfterKiB', 'rssAfterCloseKiB'] as const) {
        assert.ok(Number.isFinite(p[k]) && p[k] > 0, `${p.label}: ${k} = ${p[k]}`);
      }
      assert.ok(Number.isFinite(p.kibPerConnection), `${p.label}: KiB per connection = ${p.kibPerConnection}`);
      assert.ok(Number.isFinite(p.heapKibPerConnection), `${p.label}: heap KiB per connection`);
    }
    assert.match(out, /\| phase +\| identified \|/, 'the memory table is printed');
  });
});
