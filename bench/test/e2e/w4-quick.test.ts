// CI smoke test of bench W4 (reconnect storms through real gateways): runs `w4 --quick` — 100 clients of
// one group on 3 real gateway processes and a persister (the system broker), slot then user granularity,
// each with an all-drop storm and a SIGKILLed gateway — and checks that every affected client RESUMEd,
// every client received the probe posted as the storm started, the gateways issued bindings for the
// returning users, and the summary is well-formed. Times are not asserted (a shared machine's timing is
// not a pass/fail signal); full runs put them in bench/results.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runQuick } from '../run-scenario.js';

interface Storm {
  granularity: string;
  storm: string;
  clients: number;
  affected: number;
  complete: boolean;
  allDoneS: number;
  affectedMissing: number;
  probeReceived: number;
  binds: number;
  resumed: number;
}

describe('bench w4 --quick', () => {
  it('every client resumes after both storms and gets the probe, in slot and user granularity', async () => {
    const { summary: storms, out } = await runQuick<Storm[]>('w4', 'W4-SUMMARY');
    assert.deepEqual(
      storms.map((s) => `${s.granularity} ${s.storm}`),
      ['slot all-drop', 'slot kill-gateway', 'user all-drop', 'user kill-gateway'],
    );
    for (const s of storms) {
      const what = `${s.granularity} ${s.storm}`;
      assert.equal(s.clients, 100, `${what}: clients`);
      assert.ok(s.complete, `${what}: completed`);
      assert.equal(s.affectedMissing, 0, `${what}: every affected client resumed and got the probe`);
      assert.equal(s.probeReceived, s.clients, `${what}: every client got the probe`);
      assert.ok(Number.isFinite(s.allDoneS) && s.allDoneS > 0, `${what}: time`);
      // A client with a message id to resume from RESUMEs (READY would mean it fell back to IDENTIFY).
      assert.ok(s.resumed >= s.affected, `${what}: RESUMED per affected client`);
      assert.ok(s.binds > 0, `${what}: the returning users were bound again`);
    }
    assert.equal(storms[0]!.affected, 100, 'all-drop affects every client');
    assert.ok(storms[1]!.affected > 0 && storms[1]!.affected < 100, 'kill-gateway affects the clients of one gateway');
    assert.match(out, /\| granularity \| storm +\| clients \|/, 'the storm table is printed');
  });
});
