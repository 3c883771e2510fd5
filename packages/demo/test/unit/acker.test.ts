import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Acker } from '../../src/acker.js';

/** A send that records its calls and answers each one when told. */
function manualSend() {
  const calls: Array<[string, string]> = [];
  const answers: Array<() => void> = [];
  const send = (channelId: string, messageId: string) => {
    calls.push([channelId, messageId]);
    return new Promise<void>((resolve) => answers.push(resolve));
  };
  /** Answers the oldest outstanding call and lets the acker go on. */
  const answer = async () => {
    answers.shift()?.();
    await new Promise<void>((r) => setImmediate(r));
  };
  return { calls, send, answer };
}

describe('Acker', () => {
  it('keeps one ack in flight per channel and coalesces what is seen meanwhile into the newest', async () => {
    const s = manualSend();
    const acker = new Acker(s.send, (err) => assert.fail(String(err)));
    acker.seen('c1', '100');
    acker.seen('c1', '105');
    acker.seen('c1', '103');
    acker.seen('c2', '7');
    assert.deepEqual(s.calls, [
      ['c1', '100'],
      ['c2', '7'],
    ]);
    await s.answer();
    assert.deepEqual(s.calls.at(-1), ['c1', '105'], 'the newest seen while the first was in flight');
    await s.answer();
    await s.answer();
    assert.equal(s.calls.length, 3);
  });

  it('never acks an id at or below one already acked', async () => {
    const s = manualSend();
    const acker = new Acker(s.send, (err) => assert.fail(String(err)));
    acker.seen('c1', '200');
    await s.answer();
    acker.seen('c1', '200');
    acker.seen('c1', '150');
    assert.equal(s.calls.length, 1);
    acker.forget('c1');
    acker.seen('c1', '150');
    assert.deepEqual(s.calls.at(-1), ['c1', '150'], 'a forgotten channel starts over');
  });

  it('reports a failed ack and goes on with the next', async () => {
    const errors: unknown[] = [];
    const acker = new Acker(
      async (_c, id) => {
        if (id === '1') throw new Error('rate_limited');
      },
      (err) => errors.push(err),
    );
    acker.seen('c1', '1');
    await new Promise<void>((r) => setImmediate(r));
    acker.seen('c1', '2');
    await new Promise<void>((r) => setImmediate(r));
    assert.equal(errors.length, 1);
  });
});
