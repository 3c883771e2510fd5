// CI smoke test of bench W1 (DMs through the whole system): runs `w1 --quick` — 200 clients on 2 real
// gateway processes, a persister, the stand-in: the cold-start step, the W5 closed loop, two sweep rates
// and the overload steps — and checks that every step sent, delivered what it accepted (no loss, no
// duplicate, nothing acked lost) and that the cold-start step ran first. Latency is not asserted (a shared
// machine's timing is not a pass/fail signal).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runQuick } from '../run-scenario.js';

interface Step {
  tag: string;
  rate: number;
  sent: number;
  received: number;
  lost: number;
  refused: number;
  ackedLost: number;
  messagesWithDuplicates: number;
  p99Ms: number;
}

describe('bench w1 --quick', () => {
  it('runs cold start, W5 and the sweep, and loses or repeats nothing it accepted', async () => {
    const { summary: steps, out } = await runQuick<Step[]>('w1', 'W1-SUMMARY');
    assert.deepEqual(
      steps.slice(0, 4).map((s) => s.tag),
      ['cold', 'closed', 'r500', 'r1000'],
    );
    assert.equal(steps[0]!.rate, 500, 'the cold step runs the first sweep rate');
    for (const s of steps) {
      assert.ok(s.sent > 0, `${s.tag}: sent`);
      assert.ok(s.received > 0, `${s.tag}: received`);
      assert.equal(s.lost, 0, `${s.tag}: nothing accepted was lost`);
      assert.equal(s.ackedLost, 0, `${s.tag}: nothing acked was lost`);
      assert.equal(s.messagesWithDuplicates, 0, `${s.tag}: no message arrived twice`);
      assert.ok(Number.isFinite(s.p99Ms) && s.p99Ms > 0, `${s.tag}: p99 measured`);
    }
    assert.match(out, /Cold start \(issue #8 item 5\): 500 msg\/s right after 200 clients connected/);
  });
});
