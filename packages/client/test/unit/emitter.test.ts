import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Emitter } from '../../src/internal/emitter.js';

interface Events {
  a: [n: number];
  b: [s: string, n: number];
}

describe('Emitter', () => {
  it('on() returns an unsubscribe function, and off() removes a listener', () => {
    const e = new Emitter<Events>();
    const got: number[] = [];
    const fn = (n: number) => got.push(n);
    const off = e.on('a', fn);
    e.emit('a', 1);
    off();
    e.emit('a', 2);
    e.on('a', fn);
    e.emit('a', 3);
    e.off('a', fn);
    e.emit('a', 4);
    assert.deepEqual(got, [1, 3]);
  });

  it('once() calls its listener for the next emission only', () => {
    const e = new Emitter<Events>();
    const got: Array<[string, number]> = [];
    e.once('b', (s, n) => got.push([s, n]));
    e.emit('b', 'x', 1);
    e.emit('b', 'y', 2);
    assert.deepEqual(got, [['x', 1]]);
    assert.equal(e.listenerCount('b'), 0);
  });

  it('a listener that throws does not stop the others, and its error goes to the error reporter', () => {
    const reported: unknown[] = [];
    const e = new Emitter<Events>((err) => reported.push(err));
    const got: number[] = [];
    const boom = new Error('listener bug');
    e.on('a', () => {
      throw boom;
    });
    e.on('a', (n) => got.push(n));
    e.emit('a', 7);
    assert.deepEqual(got, [7]);
    assert.deepEqual(reported, [boom]);
  });
});
