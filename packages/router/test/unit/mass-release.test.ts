// Mass-release holds: the detector's thresholds on an explicit clock, and the binding table keeping
// keys bound through a hold (against the recording executor of bindings.test.ts's kind).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BindingExecutor, BindingTable } from '../../src/internal/bindings.js';
import { MassReleaseDetector } from '../../src/internal/mass-release.js';

class RecordingExecutor implements BindingExecutor {
  readonly ops: string[] = [];
  bind(key: string) {
    this.ops.push(`bind ${key}`);
    return Promise.resolve();
  }
  unbind(key: string) {
    this.ops.push(`unbind ${key}`);
    return Promise.resolve();
  }
  count(op: 'bind' | 'unbind') {
    return this.ops.filter((o) => o.startsWith(`${op} `)).length;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('MassReleaseDetector', () => {
  it('starts a hold at a quarter of the references within a second, and not below minReleases', () => {
    const d = new MassReleaseDetector({ holdMs: 5000, minReleases: 10 });
    let refs = 100;
    for (let i = 0; i < 24; i++) assert.equal(d.onRelease(refs--, 1000 + i), false, `release ${i + 1} of 100`);
    assert.equal(d.holding(1030), false);
    assert.equal(d.onRelease(refs--, 1030), true, 'the 25th of 100 within a second');
    assert.equal(d.holding(1030 + 4999), true);
    assert.equal(d.holding(1030 + 5000), false);
    // Small gateways: a quarter of 8 is 2, but it takes minReleases.
    const small = new MassReleaseDetector({ holdMs: 5000, minReleases: 10 });
    for (let i = 0; i < 8; i++) assert.equal(small.onRelease(8 - i, i), false);
  });

  it('ordinary churn spread over seconds never starts one; a further burst extends a hold without restarting it', () => {
    const d = new MassReleaseDetector({ holdMs: 3000, minReleases: 5 });
    let refs = 100;
    for (let s = 0; s < 10; s++) for (let i = 0; i < 20; i++) assert.equal(d.onRelease(refs, s * 1000 + i * 40), false);
    refs = 100;
    let started = 0;
    for (let i = 0; i < 40; i++) started += d.onRelease(refs--, 20_000) ? 1 : 0;
    assert.equal(started, 1);
    assert.equal(d.holdUntil, 23_000);
    for (let i = 0; i < 40; i++) started += d.onRelease(refs--, 22_000) ? 1 : 0;
    assert.equal(started, 1, 'extended, not started again');
    assert.equal(d.holdUntil, 25_000);
  });

  it('holdMs 0 never holds; bad options are refused', () => {
    const d = new MassReleaseDetector({ holdMs: 0, minReleases: 1 });
    for (let i = 0; i < 100; i++) assert.equal(d.onRelease(100 - i, 0), false);
    assert.throws(() => new MassReleaseDetector({ holdMs: -1 }), RangeError);
    assert.throws(() => new MassReleaseDetector({ holdMs: 1, fraction: 0 }), RangeError);
    assert.throws(() => new MassReleaseDetector({ holdMs: 1, minReleases: 0 }), RangeError);
  });
});

describe('BindingTable after a mass release', () => {
  it('keeps every key bound through the hold: returning users cost no bind; the others are unbound when it ends', async () => {
    const exec = new RecordingExecutor();
    const holds: number[] = [];
    const table = new BindingTable({
      lanes: 4,
      lingerMs: 0, // without the hold, every release would be unbound at once (burst of 1,000)
      unbindsPerSecond: 1000,
      massReleaseHoldMs: 400,
      onHold: (keys) => holds.push(keys),
    });
    await table.reconcile(exec);
    const keys = Array.from({ length: 200 }, (_, i) => `s.${i}`);
    await Promise.all(keys.map((k) => table.acquire(k)));
    exec.ops.length = 0;
    for (const k of keys) table.release(k); // every socket gone at once
    await tick();
    await table.settled();
    assert.deepEqual(holds, [63], 'the hold started at the 64th release, taking the 63 released before it');
    assert.equal(exec.count('unbind'), 0, 'nothing unbound during the hold');
    assert.equal(table.boundKeys, 200);
    const back = keys.slice(0, 150);
    await Promise.all(back.map((k) => table.acquire(k))); // resolved at once: still bound
    assert.equal(exec.count('bind'), 0, 'returning users cost no bind');
    await sleep(500); // the hold ends; the 50 keys nobody came back for are unbound
    await table.settled();
    assert.equal(exec.count('unbind'), 50);
    assert.ok(back.every((k) => table.isBound(k)));
    assert.ok(keys.slice(150).every((k) => !table.isBound(k)));
    table.close();
  });

  it('a few users leaving start no hold: their keys are unbound after the linger as before', async () => {
    const exec = new RecordingExecutor();
    const holds: number[] = [];
    const table = new BindingTable({ lanes: 2, lingerMs: 0, massReleaseHoldMs: 60_000, onHold: (k) => holds.push(k) });
    await table.reconcile(exec);
    const keys = Array.from({ length: 200 }, (_, i) => `s.${i}`);
    await Promise.all(keys.map((k) => table.acquire(k)));
    for (const k of keys.slice(0, 20)) table.release(k);
    await tick();
    await table.settled();
    assert.deepEqual(holds, []);
    assert.equal(exec.count('unbind'), 20);
    table.close();
  });
});
