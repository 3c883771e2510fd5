// The tops a process remembers: raised only, bounded (least recently used forgotten first), off at 0,
// and not used for `distrustMs` after a refused ordinal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KnownTops } from '@chat/store';

describe('KnownTops', () => {
  it('remembers the highest ordinal seen per channel', () => {
    const tops = new KnownTops();
    tops.saw('a', 5);
    tops.saw('a', 3);
    tops.saw('b', 1);
    tops.saw('a', 7);
    assert.deepEqual(
      [...tops.known(['a', 'b', 'c'])],
      [
        ['a', 7],
        ['b', 1],
      ],
    );
  });

  it('forgets the least recently used channel beyond maxChannels', () => {
    const tops = new KnownTops({ maxChannels: 2 });
    tops.saw('a', 1);
    tops.saw('b', 1);
    tops.saw('a', 2); // a is now the most recent
    tops.saw('c', 1);
    assert.equal(tops.size, 2);
    assert.deepEqual([...tops.known(['a', 'b', 'c']).keys()], ['a', 'c']);
  });

  it('maxChannels 0 remembers nothing', () => {
    const tops = new KnownTops({ maxChannels: 0 });
    tops.saw('a', 1);
    assert.equal(tops.size, 0);
    assert.equal(tops.trusted, false);
    assert.deepEqual(tops.known(['a']).size, 0);
    assert.throws(() => new KnownTops({ maxChannels: -1 }), RangeError);
  });

  it('answers nothing for distrustMs after distrust(), then again what it remembers', () => {
    let now = 1_000;
    const tops = new KnownTops({ distrustMs: 500, now: () => now });
    tops.saw('a', 4);
    tops.distrust();
    tops.saw('a', 6); // still kept up to date while distrusted
    assert.equal(tops.trusted, false);
    assert.equal(tops.known(['a']).size, 0);
    now += 499;
    assert.equal(tops.known(['a']).size, 0);
    now += 1;
    assert.deepEqual([...tops.known(['a'])], [['a', 6]]);
  });
});
