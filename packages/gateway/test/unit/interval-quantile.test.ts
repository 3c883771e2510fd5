import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IntervalQuantile } from '../../src/interval-quantile.js';

describe('a quantile of one interval', () => {
  it('reads a quantile within one bucket (19 %) above the true value', () => {
    const q = new IntervalQuantile();
    for (let ms = 1; ms <= 1000; ms++) q.add(ms);
    assert.equal(q.count, 1000);
    for (const [p, exact] of [
      [0.5, 500],
      [0.9, 900],
      [0.99, 990],
    ] as const) {
      const v = q.quantile(p);
      assert.ok(v >= exact && v <= exact * 1.19, `p${p * 100}: ${v} for ${exact}`);
    }
  });

  it('puts sub-millisecond and very slow samples in its end buckets', () => {
    const q = new IntervalQuantile();
    q.add(0.2);
    q.add(-1);
    assert.equal(q.quantile(1), 1);
    q.add(10 * 60_000);
    assert.ok(q.quantile(1) > 50_000, 'the last bucket takes everything slower');
  });

  it('is 0 with no samples, and forgets them on reset', () => {
    const q = new IntervalQuantile();
    assert.equal(q.quantile(0.9), 0);
    q.add(300);
    assert.ok(q.quantile(0.9) >= 300);
    q.reset();
    assert.equal(q.count, 0);
    assert.equal(q.quantile(0.9), 0);
  });
});
