// CI smoke test of bench W2 (group fan-out through the whole system): runs `w2 --quick` — 60 members of
// one group on 3 real gateway processes, a persister, the stand-in, two short rates — and checks that
// every message the gateways accepted reached every member (no lost copy), that the broker carried one
// record per gateway per group message (not one per member), and that the summary is well-formed.
// Latency is not asserted (a shared machine's timing is not a pass/fail signal).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runQuick } from '../run-scenario.js';

interface Step {
  rate: number;
  sent: number;
  acked: number;
  refused: number;
  members: number;
  copies: number;
  expectedCopies: number;
  lostCopies: number;
  toLastP99Ms: number;
  gatewayMessages: number;
  gatewayRecords: number;
}

describe('bench w2 --quick', () => {
  it('delivers every accepted group message to every member, one broker record per gateway', async () => {
    const { summary: steps, out } = await runQuick<Step[]>('w2', 'W2-SUMMARY');
    assert.deepEqual(
      steps.map((s) => s.rate),
      [10, 50],
    );
    for (const s of steps) {
      assert.ok(s.sent > 0, `R ${s.rate}: sent`);
      assert.ok(s.acked > 0, `R ${s.rate}: some messages acked`);
      assert.equal(s.members, 60, `R ${s.rate}: every member connected`);
      assert.equal(s.expectedCopies, (s.sent - s.refused) * s.members, `R ${s.rate}: expected copies`);
      assert.equal(s.lostCopies, 0, `R ${s.rate}: no member copy lost`);
      assert.equal(s.copies, s.expectedCopies, `R ${s.rate}: every member got every accepted message once`);
      assert.ok(Number.isFinite(s.toLastP99Ms) && s.toLastP99Ms > 0, `R ${s.rate}: p99 to the last member`);
      // Three gateways hold members: one dispatch record each per group message, whatever the bundling.
      assert.equal(s.gatewayRecords, 3, `R ${s.rate}: records per group message`);
      assert.ok(
        s.gatewayMessages > 0 && s.gatewayMessages <= 3,
        `R ${s.rate}: AMQP messages per group message ${s.gatewayMessages}`,
      );
    }
    assert.match(out, /\| R msg\/s \| sent\/s \| deliveries\/s \|/, 'the latency table is printed');
  });
});
