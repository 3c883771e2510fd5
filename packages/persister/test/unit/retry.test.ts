import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRetry, routerTransient, storeTransient } from '../../src/retry.js';
import { permanent } from './fakes.js';

function failing(times: number, error: () => unknown) {
  let calls = 0;
  return {
    op: async () => {
      if (calls++ < times) throw error();
      return 'done';
    },
    calls: () => calls,
  };
}

describe('persister retry', () => {
  it('retries transient failures with exponential backoff, counting each retry by stage and logging the 1st and every 10th', async () => {
    const pauses: number[] = [];
    const retries: string[] = [];
    const logged: unknown[] = [];
    const retry = createRetry({
      minMs: 100,
      maxMs: 5000,
      logger: { warn: (obj) => void logged.push(obj) },
      onRetry: (stage) => void retries.push(stage),
      sleep: async (ms) => void pauses.push(ms),
    });
    const f = failing(20, () => new Error('down'));
    assert.equal(await retry('store', f.op, storeTransient), 'done');
    assert.equal(f.calls(), 21);
    assert.deepEqual(pauses.slice(0, 8), [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    assert.equal(retries.length, 20);
    assert.ok(retries.every((s) => s === 'store'));
    assert.deepEqual(logged, [
      { err: 'down', stage: 'store', attempt: 1 },
      { err: 'down', stage: 'store', attempt: 10 },
      { err: 'down', stage: 'store', attempt: 20 },
    ]);
  });

  it('throws a failure that is not transient at once', async () => {
    const retries: string[] = [];
    const retry = createRetry({
      minMs: 1,
      maxMs: 1,
      logger: { warn() {} },
      onRetry: (s) => void retries.push(s),
      sleep: async () => {},
    });
    const f = failing(5, () => permanent());
    await assert.rejects(retry('store', f.op, storeTransient), /Document failed validation/);
    assert.equal(f.calls(), 1);
    const closed = failing(5, () => new Error('router closed'));
    await assert.rejects(retry('dispatch', closed.op, routerTransient), /router closed/);
    assert.deepEqual(retries, []);
  });

  it('classifies failures: MongoDB refusals it would repeat are permanent, the router marks its retryable ones', () => {
    assert.equal(storeTransient(permanent()), false);
    assert.equal(storeTransient(new Error('socket closed')), true);
    assert.equal(routerTransient(Object.assign(new Error('nack'), { retryable: true })), true);
    assert.equal(routerTransient(new Error('closed')), false);
  });
});
