import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BROADCAST_KEY, broadcastAbove } from '@chat/router';

describe('broadcast threshold', () => {
  it("'auto' broadcasts every multi-key dispatch on brokers before 3.11 and none on later ones", () => {
    for (const v of ['3.10.8', '3.9.29', '2.8.19', '3.10.25-1']) assert.equal(broadcastAbove('auto', v), 1, v);
    for (const v of ['3.11.0', '3.13.7', '4.0.5', '10.1.0']) {
      assert.equal(broadcastAbove('auto', v), Number.POSITIVE_INFINITY, v);
    }
  });

  it("'auto' with no or an unreadable version keeps dispatches on their keys", () => {
    assert.equal(broadcastAbove('auto', undefined), Number.POSITIVE_INFINITY);
    assert.equal(broadcastAbove('auto', 'unknown'), Number.POSITIVE_INFINITY);
  });

  it("a number is the threshold whatever the broker, and 'off' never broadcasts", () => {
    assert.equal(broadcastAbove(8, '3.10.8'), 8);
    assert.equal(broadcastAbove(8, '4.0.5'), 8);
    assert.equal(broadcastAbove('off', '3.10.8'), Number.POSITIVE_INFINITY);
  });

  it('the broadcast key cannot be a slot or user key (those have a dot)', () => {
    assert.ok(!BROADCAST_KEY.includes('.'));
  });
});
