import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/rng.js';

describe('Rng', () => {
  it('one seed, one sequence: a schedule is reproducible', () => {
    const draw = (seed: number) => {
      const r = new Rng(seed);
      return Array.from({ length: 20 }, () => r.int(0, 1000));
    };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
  });

  it('stays within bounds and picks from the list', () => {
    const r = new Rng(1);
    for (let i = 0; i < 1000; i++) {
      const n = r.int(3, 5);
      assert.ok(n >= 3 && n <= 5);
      assert.ok(['a', 'b'].includes(r.pick(['a', 'b'])));
      const f = r.next();
      assert.ok(f >= 0 && f < 1);
    }
    assert.throws(() => r.pick([]), RangeError);
  });
});
