// CI smoke tests of the micro-benchmark scenarios that have no smoke test of their own (w1–w4, peers,
// http and Artillery have theirs): each runs with --quick against the system broker and must exit 0
// (each exits 1 on its own checks: writes not found, nothing stored, dead letters, mis-routed copies)
// and print its result tables. So none can rot unnoticed, as `persister` did when the persister began
// to dead-letter writes without the broker-checked `user_id` and the scenario went on measuring an
// empty queue. Figures are not asserted (a shared machine's timing is not a pass/fail signal).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runQuick, runQuickOk } from '../run-scenario.js';

interface PersisterSummary {
  levels: Array<{ inFlight: number; storedPerSec: number; deadLettered: number; ranDry: boolean }>;
  path: Array<{ round: number; variant: 'raw' | 'path'; messages: number; lost: number }>;
}

describe('bench scenarios --quick', () => {
  it('persister: every level stores from the pre-filled queue, nothing is dead-lettered, the path loses nothing', async () => {
    const { summary, out } = await runQuick<PersisterSummary>('persister', 'PERSISTER-SUMMARY');
    assert.deepEqual(
      summary.levels.map((l) => l.inFlight),
      [1, 100],
    );
    for (const l of summary.levels) {
      assert.ok(l.storedPerSec > 0, `in flight ${l.inFlight}: stored ${l.storedPerSec}/s`);
      assert.equal(l.deadLettered, 0, `in flight ${l.inFlight}: dead letters`);
      assert.equal(l.ranDry, false, `in flight ${l.inFlight}: the queue ran dry`);
    }
    const path = summary.path.filter((r) => r.variant === 'path');
    assert.equal(path.length, 1, 'one whole-path round');
    assert.deepEqual(
      path.map((r) => r.lost),
      [0],
      'whole path: every write delivered',
    );
    assert.match(out, /\| in flight \| batch \| stored msg\/s \|/);
  });

  it('durable: router and raw writes are all found in the queue', async () => {
    const out = await runQuickOk('durable');
    assert.match(out, /\| round \| variant \| messages \|/);
    assert.match(out, /\| router\.durableWrite +\|/);
  });

  it('dispatch: no gateway gets a copy its users do not call for', async () => {
    const out = await runQuickOk('dispatch');
    assert.match(out, /\| phase +\| variant \| round \| dispatches \|/);
    assert.match(out, /\| to 10 users \| router +\|/);
  });

  it('attach: binds and unbinds a storm of users at slot and user granularity', async () => {
    const out = await runQuickOk('attach');
    assert.match(out, /\| single \(1\) \| slot +\| 1,000 \|/);
    assert.match(out, /\| single \(1\) \| user +\| 1,000 \|/);
  });

  it('standin-queries, standin-writes and counting run against the stand-in', async () => {
    assert.match(await runQuickOk('standin-queries'), /\| history, latest page \(DM\/group\) +\|/);
    assert.match(await runQuickOk('standin-writes'), /\| insert messages +\|/);
    assert.match(await runQuickOk('counting'), /\| path \| mean ms\/batch \|/);
  });

  it('broker-costs: measures durable writes and routed dispatches on the system broker', async () => {
    const out = await runQuickOk('broker-costs');
    assert.match(out, /Durable writes into a quorum queue at 1000\/s for 2 s/);
    assert.match(out, /\| direct +\| 1 bound by both queues \(broadcast\) +\|/);
  });
});
