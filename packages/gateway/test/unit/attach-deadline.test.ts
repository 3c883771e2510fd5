// attachWithin: an attach that waits while the router completes binding operations is given more time
// (a storm's queue of binds that moves), never beyond maxMs; one that waits while nothing moves fails at
// timeoutMs. Outcomes only are asserted (which promise wins), not durations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attachWithin } from '../../src/attach-deadline.js';

const never = new Promise<void>(() => {});
const after = (ms: number) => new Promise<string>((r) => setTimeout(() => r('attached'), ms));

describe('attachWithin', () => {
  it('passes the attach through when it settles first, either way', async () => {
    assert.equal(await attachWithin(Promise.resolve('ok'), { timeoutMs: 1000, maxMs: 1000 }), 'ok');
    await assert.rejects(attachWithin(Promise.reject(new Error('closed')), { timeoutMs: 1000, maxMs: 1000 }), /closed/);
  });

  it('fails at the timeout when the router completed no binding operation meanwhile', async () => {
    await assert.rejects(
      attachWithin(never, { timeoutMs: 20, maxMs: 10_000, progressAt: () => 0 }),
      /attach took longer than \d+ ms with no binding progress/,
    );
    await assert.rejects(attachWithin(never, { timeoutMs: 20, maxMs: 10_000 }), /no binding progress/);
  });

  it('waits past the timeout while binding operations keep completing, and gets its attach', async () => {
    assert.equal(
      await attachWithin(after(100), { timeoutMs: 20, maxMs: 10_000, progressAt: () => Date.now() }),
      'attached',
    );
  });

  it('never waits beyond maxMs, progress or not', async () => {
    await assert.rejects(
      attachWithin(never, { timeoutMs: 10, maxMs: 50, progressAt: () => Date.now() }),
      (err: Error) => /attach took longer than \d+ ms$/.test(err.message),
    );
  });
});
