import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../src/internal/backoff.js';

const opts = { initialDelayMs: 250, maxDelayMs: 10_000, jitter: 0.2 };

describe('backoffDelay', () => {
  it('doubles from the initial delay and stops growing at the maximum', () => {
    const noJitter = { ...opts, jitter: 0 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, noJitter)),
      [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000],
    );
  });

  it('takes the jitter off the top, so a delay lies in [base × (1 − jitter), base] and never exceeds the maximum', () => {
    assert.equal(
      backoffDelay(2, opts, () => 0),
      1000,
    );
    assert.equal(
      backoffDelay(2, opts, () => 0.999_999),
      800,
    );
    assert.equal(
      backoffDelay(2, opts, () => 0.5),
      900,
    );
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(50, opts);
      assert.ok(d >= 8000 && d <= 10_000, String(d));
    }
  });

  it('survives absurd attempt numbers without overflowing to Infinity or NaN', () => {
    assert.equal(backoffDelay(10_000, { ...opts, jitter: 0 }), 10_000);
    assert.equal(backoffDelay(-3, { ...opts, jitter: 0 }), 250);
  });
});
