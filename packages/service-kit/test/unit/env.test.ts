import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bool, ConfigError, duration, int, list, refusePlaceholders, str, url } from '../../src/env.js';

const refused = (pattern: RegExp) => (err: unknown) => err instanceof ConfigError && pattern.test(err.message);

describe('environment readers', () => {
  it('str: the value, or the fallback when unset or empty', () => {
    assert.equal(str({ A: 'x' }, 'A', 'f'), 'x');
    assert.equal(str({ A: '' }, 'A', 'f'), 'f');
    assert.equal(str({}, 'A', 'f'), 'f');
  });

  it('int: an integer within its bounds; anything else names the variable, the bounds and the value', () => {
    assert.equal(int({ N: '42' }, 'N', 7, 1, 100), 42);
    assert.equal(int({ N: '' }, 'N', 7, 1, 100), 7);
    assert.equal(int({}, 'N', 7, 1), 7);
    for (const bad of ['0', '101', '1.5', 'abc', '1e400']) {
      assert.throws(
        () => int({ N: bad }, 'N', 7, 1, 100),
        refused(new RegExp(`^N must be an integer in 1\\.\\.100, got "${bad}"$`)),
      );
    }
  });

  it('duration: whole milliseconds within bounds, the unit named in the error', () => {
    assert.equal(duration({ T_MS: '250' }, 'T_MS', 5, 0, 1000), 250);
    assert.equal(duration({}, 'T_MS', 5, 0, 1000), 5);
    assert.throws(
      () => duration({ T_MS: '5s' }, 'T_MS', 5, 0, 1000),
      refused(/^T_MS must be a number of milliseconds, an integer in 0\.\.1000, got "5s"$/),
    );
    assert.throws(() => duration({ T_MS: '1001' }, 'T_MS', 5, 0, 1000), ConfigError);
  });

  it('bool: 1/true/yes and 0/false/no in any case; anything else names the variable', () => {
    for (const yes of ['1', 'true', 'YES', 'True']) assert.equal(bool({ B: yes }, 'B', false), true);
    for (const no of ['0', 'false', 'No']) assert.equal(bool({ B: no }, 'B', true), false);
    assert.equal(bool({ B: '' }, 'B', true), true);
    assert.throws(() => bool({ B: 'maybe' }, 'B', true), refused(/^B must be true or false, got "maybe"$/));
  });

  it('list: comma-separated, trimmed, empty items dropped, frozen; a refused item is named with its variable', () => {
    assert.deepEqual(list({ L: ' a, b ,,c,' }, 'L'), ['a', 'b', 'c']);
    assert.ok(Object.isFrozen(list({ L: 'a' }, 'L')));
    assert.deepEqual(list({ L: '  ' }, 'L', ['d']), ['d']);
    assert.deepEqual(list({}, 'L'), []);
    const short = (i: string) => (i.length > 3 ? 'is too long' : undefined);
    assert.deepEqual(list({ L: 'abc' }, 'L', [], short), ['abc']);
    assert.throws(() => list({ L: 'ab, abcd' }, 'L', [], short), refused(/^L: "abcd" is too long$/));
  });

  it('url: parses and checks the scheme, naming the variable', () => {
    assert.equal(url('U', 'redis://h:6379', ['redis:', 'rediss:']), 'redis://h:6379');
    assert.throws(() => url('U', 'not a url', ['redis:']), refused(/^U is not a URL: "not a url"$/));
    assert.throws(() => url('U', 'http://h', ['redis:', 'rediss:']), refused(/^U must use redis: or rediss:$/));
  });

  it('refusePlaceholders: an example secret (change-me) is refused, naming the variable', () => {
    refusePlaceholders({ S: 'a real secret' }, ['S', 'UNSET']);
    assert.throws(() => refusePlaceholders({ S: 'x-Change_Me-y' }, ['S']), refused(/^S still holds an example value/));
  });
});
