import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdleGc } from '../../src/idle-gc.js';

describe('idle collection after connection churn', () => {
  it('collects once, only after enough churn and a quiet period', () => {
    const collected: number[] = [];
    const gc = new IdleGc({
      minChanges: 3,
      quietMs: 100,
      utilization: () => 0,
      onCollect: (c) => collected.push(c.changes),
    });
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
    const gc = new IdleGc({ minChanges: 2, quietMs: 100, busy: () => busy, utilization: () => 0 });
    gc.changed(0);
    gc.changed(10);
    assert.equal(gc.tick(500), false, 'quiet, but presence leaves are pending');
    busy = false;
    assert.equal(gc.tick(600), true);
    assert.equal(gc.tick(700), false);
  });

  it('waits while the event loop serves traffic, then collects once it is nearly idle', () => {
    let utilization = 0.2;
    const gc = new IdleGc({ minChanges: 2, quietMs: 100, utilization: () => utilization, maxUtilization: 0.05 });
    gc.changed(0);
    gc.changed(10);
    assert.equal(gc.tick(500), false, 'no churn for long enough, but the loop is 20% busy');
    utilization = 0.06;
    assert.equal(gc.tick(600), false, 'still above the threshold');
    utilization = 0.01;
    assert.equal(gc.tick(700), true);
    assert.equal(gc.tick(800), false, 'once per burst');
  });

  it('measures the event loop by default: a loop kept busy between ticks is not quiet', () => {
    const gc = new IdleGc({ minChanges: 1, quietMs: 0 });
    gc.changed(0);
    const until = performance.now() + 30;
    while (performance.now() < until) {} // the loop is fully busy from here to the next tick
    assert.equal(gc.tick(1000), false);
  });
});
