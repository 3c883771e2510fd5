import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectWithRetry } from '../../src/connect.js';
import { exponentialDelay, retryUntil } from '../../src/retry.js';

/** An operation failing `failures` times with the given errors, then answering `value`. */
function flaky<T>(errors: unknown[], value: T) {
  let calls = 0;
  return {
    op: async () => {
      calls++;
      if (errors.length > 0) throw errors.shift();
      return value;
    },
    calls: () => calls,
  };
}

/** A sleep that records its pauses and returns at once. */
function recordingSleep() {
  const pauses: number[] = [];
  return { pauses, sleep: async (ms: number) => void pauses.push(ms) };
}

describe('retryUntil', () => {
  it('retries until the operation succeeds, pausing as delayMs says after each failure, and tells onRetry', async () => {
    const { pauses, sleep } = recordingSleep();
    const seen: Array<[string, number]> = [];
    const f = flaky([new Error('a'), new Error('b'), new Error('c')], 'ok');
    const value = await retryUntil(f.op, {
      delayMs: (n) => n * 10,
      onRetry: (err, n) => seen.push([(err as Error).message, n]),
      sleep,
    });
    assert.equal(value, 'ok');
    assert.equal(f.calls(), 4);
    assert.deepEqual(pauses, [10, 20, 30]);
    assert.deepEqual(seen, [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('throws at once a failure shouldRetry refuses, without pausing', async () => {
    const { pauses, sleep } = recordingSleep();
    const permanent = Object.assign(new Error('no'), { permanent: true });
    const f = flaky([new Error('transient'), permanent], 'never');
    await assert.rejects(
      retryUntil(f.op, { shouldRetry: (e) => !(e as { permanent?: boolean }).permanent, delayMs: () => 1, sleep }),
      (e: unknown) => e === permanent,
    );
    assert.equal(f.calls(), 2);
    assert.deepEqual(pauses, [1]);
  });

  it('exponentialDelay doubles from its minimum up to its maximum and stays there', () => {
    const d = exponentialDelay(100, 5000);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 100, 10_000].map(d), [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });
});

describe('connectWithRetry', () => {
  it('keeps connecting, logging each failure with the attempt, pausing 500 ms × attempt up to 5 s', async () => {
    const { pauses, sleep } = recordingSleep();
    const warnings: Array<{ obj: unknown; msg: string | undefined }> = [];
    const logger = { warn: (obj: object | string, msg?: string) => void warnings.push({ obj, msg }) };
    const f = flaky(
      Array.from({ length: 12 }, (_, i) => new Error(`down ${i + 1}`)),
      undefined,
    );
    await connectWithRetry('MongoDB', f.op, { logger, sleep });
    assert.equal(f.calls(), 13);
    assert.deepEqual(pauses, [500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 5000, 5000]);
    assert.equal(warnings.length, 12);
    assert.deepEqual(warnings[0], { obj: { err: 'down 1', attempt: 1 }, msg: 'MongoDB not ready; retrying' });
    assert.deepEqual(warnings[11]!.obj, { err: 'down 12', attempt: 12 });
  });
});
