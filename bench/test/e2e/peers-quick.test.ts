// CI smoke run of the `peers` scenario: `peers --quick` (40 users, 2 rates and one group rate of a few
// seconds each) against this system and the Socket.IO peer, real processes, RabbitMQ and Redis. It
// proves that the scenario runs end to end for both protocols and that its JSON holds what the
// results page is built from; no latency is asserted (the machine is shared).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../../', import.meta.url));

interface Step {
  rate: number;
  sent: number;
  acked: number;
  ackedLost: number;
  stored?: number;
  latency: { count: number };
}

interface Result {
  name: string;
  durable: boolean;
  error?: string;
  idle?: { sockets: number; opened: number; kibPerSocket: number };
  sweep: Step[];
  group: Array<{ rate: number; members: number; sent: number; acked: number; copies: number }>;
}

test('peers --quick runs ours and socketio side by side, and every acked message reaches every member', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peers-quick-'));
  try {
    const json = join(dir, 'peers.json');
    const run = spawnSync(
      process.execPath,
      [
        '--conditions=@chat/source',
        '--import',
        'tsx',
        'peers.ts',
        '--quick',
        '--systems',
        'ours,socketio',
        '--json',
        json,
        '--no-save',
      ],
      { cwd: BENCH, encoding: 'utf8', timeout: 240_000, killSignal: 'SIGINT' },
    );
    assert.equal(run.status, 0, `peers --quick failed:\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-4000)}`);
    assert.match(run.stdout, /^System: .+ cores/m);
    const out = JSON.parse(readFileSync(json, 'utf8')) as {
      scenario: string;
      command: string;
      system: string;
      params: { rates: number[]; systems: string[] };
      data: { results: Result[] };
    };
    assert.equal(out.scenario, 'peers');
    assert.match(out.system, /^System: /);
    assert.deepEqual(out.params.systems, ['ours', 'socketio']);
    assert.deepEqual(
      out.data.results.map((r) => r.name),
      ['ours', 'socketio'],
    );
    for (const r of out.data.results) {
      assert.equal(r.error, undefined, `${r.name} failed: ${r.error}`);
      assert.equal(r.idle?.opened, r.idle?.sockets, `${r.name}: every idle socket connects`);
      assert.ok(Number.isFinite(r.idle?.kibPerSocket), `${r.name}: a memory figure`);
      assert.deepEqual(
        r.sweep.map((s) => s.rate),
        out.params.rates,
      );
      for (const s of r.sweep) {
        assert.ok(s.acked > 0, `${r.name} at ${s.rate}/s: messages were acked`);
        assert.equal(s.ackedLost, 0, `${r.name} at ${s.rate}/s: every acked message was delivered`);
        assert.ok(s.latency.count > 0, `${r.name} at ${s.rate}/s: latencies recorded`);
        if (r.durable) assert.ok((s.stored ?? 0) >= s.acked, `${r.name} at ${s.rate}/s: every acked message stored`);
      }
      assert.ok(r.group.length > 0);
      for (const g of r.group) {
        assert.ok(g.acked > 0);
        assert.ok(
          g.copies >= g.acked * (g.members - 1),
          `${r.name} W2 at ${g.rate}/s: ${g.copies} copies for ${g.acked} acked messages to ${g.members - 1} others`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
