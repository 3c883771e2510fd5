// CI smoke test of bench W1 (DMs through the whole system): runs `w1 --quick --knee 1000 --no-save` —
// 200 clients on 2 real gateway processes, a persister, the stand-in; cold start, W5, a short sweep,
// the overload steps and the recovery step (4× the knee, then the knee at once) — and checks that no
// step lost or duplicated a message, that nothing acked was lost, and that the recovery step's
// per-send-second accounting holds every message it sent. The knee is given so that the overload and
// recovery steps run whatever the sweep's latency on a busy machine; latency is not asserted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runQuick } from '../run-scenario.js';

interface Summary {
  steps: Array<{
    tag: string;
    rate: number;
    sent: number;
    received: number;
    lost: number;
    refused: number;
    ackedLost: number;
    messagesWithDuplicates: number;
  }>;
  recovery: {
    knee: number;
    seconds: Array<{ phase: 'overload' | 'knee'; count: number; p99Ms: number }>;
    sent: number;
    refused: number;
    received: number;
    firstUnderS: number | null;
    recoveredAfterS: number | null;
  } | null;
}

describe('bench w1 --quick', () => {
  it('loses and duplicates nothing in any step, and the recovery step accounts for every message by send second', async () => {
    const { summary } = await runQuick<Summary>('w1', 'W1-SUMMARY', ['--knee', '1000', '--no-save']);
    assert.deepEqual(
      summary.steps.map((s) => s.tag),
      ['cold', 'closed', 'r500', 'r1000', 'o2x', 'o4x'],
    );
    // What the system guarantees whatever the machine's load: nothing acked is lost (judged after the
    // drain), nothing is delivered twice. (A message late past the grace period counts as lost in a
    // step's own figures; that is timing, not asserted here.)
    for (const s of summary.steps) {
      assert.ok(s.sent > 0, `${s.tag}: sent`);
      assert.equal(s.ackedLost, 0, `${s.tag}: acked and lost`);
      assert.equal(s.messagesWithDuplicates, 0, `${s.tag}: duplicates`);
      assert.ok(s.received + s.refused <= s.sent, `${s.tag}: received + refused ≤ sent`);
    }
    const r = summary.recovery;
    assert.ok(r, 'the recovery step ran');
    assert.equal(r.knee, 1000);
    assert.deepEqual(
      r.seconds.map((x) => x.phase),
      ['overload', 'overload', 'overload', 'overload', 'overload', 'knee', 'knee', 'knee', 'knee', 'knee'],
    );
    // 5 s at 4,000/s then 5 s at 1,000/s: 25,000 sent. The per-send-second counts partition the
    // messages received: all but the few sent after the last whole second (timer lag at the end).
    assert.equal(r.sent, 25_000);
    assert.ok(r.received + r.refused <= r.sent);
    const counted = r.seconds.reduce((n, x) => n + x.count, 0);
    assert.ok(
      counted <= r.received && counted >= r.received * 0.95,
      `${counted} of ${r.received} received messages counted by send second`,
    );
    for (const x of r.seconds) assert.ok(x.count > 0, 'deliveries in every second');
    for (const at of [r.firstUnderS, r.recoveredAfterS]) assert.ok(at === null || (at >= 0 && at < 5));
    if (r.recoveredAfterS !== null) assert.ok(r.firstUnderS !== null && r.firstUnderS <= r.recoveredAfterS);
  });
});
