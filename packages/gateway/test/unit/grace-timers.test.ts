import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GraceTimers } from '../../src/grace-timers.js';

describe('grace timers (presence offline grace)', () => {
  it('runs onExpire after the grace unless cancelled first; a cancel says whether one was pending', async () => {
    const expired: string[] = [];
    const graces = new GraceTimers(30, 10, (k) => expired.push(k));
    assert.equal(graces.start('gone'), true);
    assert.equal(graces.start('back'), true);
    assert.equal(graces.cancel('back'), true, 'back within the grace');
    assert.equal(graces.cancel('back'), false, 'nothing pending any more');
    assert.equal(graces.cancel('never'), false);
    while (expired.length === 0) await sleep(10);
    await sleep(60);
    assert.deepEqual(expired, ['gone'], 'only the one not cancelled, once');
    assert.equal(graces.size, 0);
  });

  it('is bounded: past `max` pending graces start() refuses (the caller acts at once); a restart is not a new one', () => {
    const graces = new GraceTimers(60_000, 2, () => {});
    assert.equal(graces.start('a'), true);
    assert.equal(graces.start('b'), true);
    assert.equal(graces.start('c'), false, 'full');
    assert.equal(graces.start('a'), true, 'restarting a pending grace takes no room');
    assert.equal(graces.size, 2);
    graces.cancel('a');
    assert.equal(graces.start('c'), true, 'room again');
    graces.flush();
  });

  it('flush ends every pending grace at once (a draining gateway)', () => {
    const expired: string[] = [];
    const graces = new GraceTimers(60_000, 10, (k) => expired.push(k));
    graces.start('x');
    graces.start('y');
    graces.flush();
    assert.deepEqual(expired.sort(), ['x', 'y']);
    assert.equal(graces.size, 0);
    assert.equal(graces.cancel('x'), false);
  });
});
