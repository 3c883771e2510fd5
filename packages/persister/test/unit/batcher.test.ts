import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { Batcher } from '../../src/batcher.js';

/** A batch processor whose batches end when the test says so. */
function controlled() {
  const batches: string[][] = [];
  const ends: Array<() => void> = [];
  const process = (batch: string[]) => {
    batches.push([...batch]);
    return new Promise<void>((resolve) => ends.push(resolve));
  };
  /** Ends batch `i` (in start order) and lets its continuation run. */
  const end = async (i: number) => {
    ends[i]!();
    for (let k = 0; k < 5; k++) await Promise.resolve();
  };
  return { batches, process, end };
}

describe('batcher (group commit)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());

  it('starts a full batch at once, and a partial one batchMs after the previous start', () => {
    const c = controlled();
    const b = new Batcher<string>({ batchSize: 3, batchMs: 5, maxBatches: 0, process: c.process });
    b.add('a');
    b.add('b');
    b.add('c');
    assert.deepEqual(c.batches, [['a', 'b', 'c']]);
    b.add('d');
    mock.timers.tick(4);
    assert.deepEqual(c.batches.length, 1);
    assert.equal(b.waiting, 1);
    mock.timers.tick(1);
    assert.deepEqual(c.batches, [['a', 'b', 'c'], ['d']]);
    assert.equal(b.inProgress, 2);
  });

  it('after a quiet spell a partial batch starts at the end of the turn: pacing adds no latency to light load', () => {
    const c = controlled();
    const b = new Batcher<string>({ batchSize: 10, batchMs: 1000, maxBatches: 0, process: c.process });
    b.add('a');
    b.add('b');
    assert.deepEqual(c.batches, [], 'items of one turn are gathered');
    mock.timers.tick(1);
    assert.deepEqual(c.batches, [['a', 'b']]);
    b.add('c'); // right after that start: waits for the interval
    mock.timers.tick(999);
    assert.equal(c.batches.length, 1);
    mock.timers.tick(1);
    assert.deepEqual(c.batches, [['a', 'b'], ['c']]);
    mock.timers.tick(5_000);
    b.add('d'); // quiet for longer than batchMs: at once
    mock.timers.tick(1);
    assert.deepEqual(c.batches.at(-1), ['d']);
  });

  it('runs at most maxBatches at once; the backlog waits and leaves in full batches as batches end', async () => {
    const c = controlled();
    const b = new Batcher<string>({ batchSize: 3, batchMs: 5, maxBatches: 1, process: c.process });
    b.add('a');
    mock.timers.tick(5);
    for (const x of ['b', 'c', 'd', 'e']) b.add(x);
    mock.timers.tick(100);
    assert.deepEqual(c.batches, [['a']], 'no second batch while the first runs');
    assert.equal(b.waiting, 4);
    await c.end(0);
    assert.deepEqual(c.batches, [['a'], ['b', 'c', 'd']]);
    await c.end(1);
    assert.equal(b.waiting, 1, 'a partial backlog waits for batchMs since the last start');
    mock.timers.tick(5);
    assert.deepEqual(c.batches, [['a'], ['b', 'c', 'd'], ['e']]);
    await c.end(2);
    assert.equal(b.inProgress, 0);
    assert.equal(b.waiting, 0);
  });

  it('with maxBatches 0 every full batch starts at once', () => {
    const c = controlled();
    const b = new Batcher<number>({
      batchSize: 2,
      batchMs: 5,
      maxBatches: 0,
      process: (x) => c.process(x.map(String)),
    });
    for (let i = 0; i < 6; i++) b.add(i);
    assert.deepEqual(c.batches, [
      ['0', '1'],
      ['2', '3'],
      ['4', '5'],
    ]);
    assert.equal(b.inProgress, 3);
  });

  it('flush() starts what is pending without waiting for the timer; settled() resolves when the running batches end', async () => {
    const c = controlled();
    const b = new Batcher<string>({ batchSize: 10, batchMs: 1000, maxBatches: 2, process: c.process });
    b.add('a');
    b.flush();
    assert.deepEqual(c.batches, [['a']]);
    let settled = false;
    const s = b.settled().then(() => {
      settled = true;
    });
    await Promise.resolve();
    assert.equal(settled, false);
    await c.end(0);
    await s;
    assert.equal(settled, true);
  });
});
