// TickBatcher: what one turn of the event loop asks is loaded as one batch, strictly after every call
// that joined it (the order a RESUME's replay read relies on: it follows the caller's attach), equal
// keys share one answer, and a batch holds at most `maxBatch` distinct keys.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TickBatcher } from '../../src/tick-batcher.js';

/** Lets every settled promise's continuation and pending setImmediate run (no clock involved). */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** A load that records its batches and answers each key with its own length (unknown keys: absent). */
function recording(maxBatch = 100) {
  const batches: string[][] = [];
  const batcher = new TickBatcher<string, number>({
    load: async (keys) => {
      batches.push(keys);
      return new Map(keys.filter((k) => k !== 'unknown').map((k) => [k, k.length]));
    },
    missing: -1,
    maxBatch,
  });
  return { batches, batcher };
}

describe('TickBatcher', () => {
  it('loads the keys of one turn in one batch, distinct, and answers every caller; an absent key gets `missing`', async () => {
    const { batches, batcher } = recording();
    const answers = Promise.all(['a', 'bb', 'a', 'unknown', 'ccc'].map((k) => batcher.get(k)));
    assert.deepEqual(await answers, [1, 2, 1, -1, 3]);
    assert.deepEqual(batches, [['a', 'bb', 'unknown', 'ccc']]);
  });

  it('starts a load only after the calls that joined it, and never adds a key to a load that has started', async () => {
    const { batches, batcher } = recording();
    const first = batcher.get('a');
    assert.equal(batches.length, 0, 'nothing is read in the turn of the call');
    await Promise.resolve();
    assert.equal(batches.length, 0, 'nor in its microtasks');
    await settle();
    assert.deepEqual(batches, [['a']]);
    const second = batcher.get('a');
    assert.equal(batches.length, 1);
    await settle();
    assert.deepEqual(batches, [['a'], ['a']], 'asked after the first load started: a load of its own');
    assert.deepEqual(await Promise.all([first, second]), [1, 1]);
  });

  it('splits a turn with more distinct keys than maxBatch into loads of at most maxBatch keys', async () => {
    const { batches, batcher } = recording(2);
    const keys = ['a', 'b', 'a', 'c', 'd', 'e', 'b'];
    assert.deepEqual(
      await Promise.all(keys.map((k) => batcher.get(k))),
      keys.map(() => 1),
    );
    assert.ok(
      batches.every((b) => b.length <= 2),
      JSON.stringify(batches),
    );
    assert.deepEqual(batches.flat().sort(), ['a', 'b', 'b', 'c', 'd', 'e'].sort());
    assert.throws(() => new TickBatcher({ load: async () => new Map(), missing: 0, maxBatch: 0 }), /maxBatch/);
  });

  it('rejects every caller of a failed load (thrown or rejected); the next turn loads again', async () => {
    let calls = 0;
    const batcher = new TickBatcher<string, number>({
      load: (keys) => {
        calls++;
        if (calls === 1) throw new Error('sync failure');
        if (calls === 2) return Promise.reject(new Error('store down'));
        return Promise.resolve(new Map(keys.map((k) => [k, 7])));
      },
      missing: 0,
      maxBatch: 10,
    });
    const a = batcher.get('x');
    const b = batcher.get('y');
    await assert.rejects(a, /sync failure/);
    await assert.rejects(b, /sync failure/);
    await assert.rejects(batcher.get('x'), /store down/);
    assert.equal(await batcher.get('x'), 7);
  });
});
