import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeTyping, TypingTracker } from '../../src/typing-tracker.js';

describe('TypingTracker', () => {
  it('shows a user as typing for showMs after their last TYPING_START', () => {
    let now = 1_000;
    const t = new TypingTracker({ showMs: 5000, now: () => now });
    t.start('c1', 'u1', 'alice');
    now += 3000;
    t.start('c1', 'u2', 'bob');
    assert.deepEqual(t.names('c1'), ['alice', 'bob']);
    assert.deepEqual(t.names('c2'), []);
    now += 2000; // alice's 5 s are over, bob's are not
    assert.deepEqual(t.names('c1'), ['bob']);
    now += 3000;
    assert.deepEqual(t.names('c1'), []);
  });

  it('stops showing a user once their message arrives', () => {
    const t = new TypingTracker({ now: () => 0 });
    t.start('c1', 'u1', 'alice');
    t.stop('c1', 'u1');
    assert.deepEqual(t.names('c1'), []);
  });

  it('describes one, two, three and more typists in words', () => {
    assert.equal(describeTyping([]), '');
    assert.equal(describeTyping(['alice']), 'alice is typing…');
    assert.equal(describeTyping(['alice', 'bob']), 'alice and bob are typing…');
    assert.equal(describeTyping(['a', 'b', 'c']), 'a, b and c are typing…');
    assert.equal(describeTyping(['a', 'b', 'c', 'd']), '4 people are typing…');
  });
});
