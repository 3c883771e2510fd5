import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdleGc } from '../../src/idle-gc.js';

describe('idle collection after connection churn', () => {
  it('collects once, only after enough churn and a quiet period', () => {
    const collected: number[] = [];
    const gc = new IdleGc({ minChanges: 3, quietMs: 100, onCollect: (c) => collected.push(c.changes) });
    assert.equal(gc.tick(100), true, 'start-up counts as churn');
    gc.changed(0);
    gc.changed(10);
    assert.equal(gc.tick(500), false, 'two changes are not enough');
    gc.changed(20);
    assert.equal(gc.tick(50), false, 'not quiet yet');
    assert.equal(gc.tick(120), true);
    assert.equal(gc.tick(1000), false, 'once per burst');
    assert.deepEqual(collected, [3, 3]);
  });

  it('waits while the work the churn started is pending, then collects once', () => {
    let busy = true;
    const gc = new IdleGc({ minChanges: 2, quietMs: 100, busy: () => busy });
    gc.changed(0);
    gc.changed(10);
    assert.equal(gc.tick(500), false, 'quiet, but presence leaves are pending');
    busy = false;
    assert.equal(gc.tick(600), true);
    assert.equal(gc.tick(700), false);
  });
});
