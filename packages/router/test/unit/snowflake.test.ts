import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, parseSnowflake, SnowflakeGenerator } from '@chat/router';

// An injected clock: the only way to make the clock jump backwards on demand.
function manualClock(start: number) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

describe('SnowflakeGenerator', () => {
  it('issues strictly increasing ids that carry the worker id', async () => {
    const gen = new SnowflakeGenerator({ workerId: 42 });
    let last = 0n;
    for (let i = 0; i < 10_000; i++) {
      const id = BigInt(await gen.next());
      assert.ok(id > last, `id ${i} did not increase`);
      assert.equal(parseSnowflake(id).workerId, 42);
      last = id;
    }
  });

  it('never issues a smaller id when the clock jumps backwards, and follows the clock once it catches up', async () => {
    const clock = manualClock(Date.parse('2026-06-01T00:00:00Z'));
    const gen = new SnowflakeGenerator({ workerId: 1, now: clock.now });
    const a = BigInt(await gen.next());
    clock.t -= 5_000; // NTP step backwards by 5 s
    const b = BigInt(await gen.next());
    const c = BigInt(await gen.next());
    assert.ok(b > a && c > b, 'ids must keep increasing while the clock is behind');
    assert.equal(parseSnowflake(b).timestampMs, parseSnowflake(a).timestampMs, 'stays on the last millisecond seen');
    clock.t += 10_000;
    const d = BigInt(await gen.next());
    assert.ok(d > c);
    assert.equal(parseSnowflake(d).timestampMs, clock.t);
    assert.equal(parseSnowflake(d).sequence, 0);
  });

  it('waits for the next millisecond when one millisecond’s 4096 ids are used up', async () => {
    const clock = manualClock(Date.parse('2026-06-01T00:00:00Z'));
    const sleeps: number[] = [];
    const gen = new SnowflakeGenerator({
      workerId: 3,
      now: clock.now,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.t += 1; // time passes while we wait
      },
    });
    const ids: bigint[] = [];
    for (let i = 0; i < 4097; i++) ids.push(BigInt(await gen.next()));
    assert.equal(parseSnowflake(ids[4095]!).sequence, 4095);
    assert.equal(sleeps.length, 1, 'exactly one wait, for the 4097th id');
    assert.equal(parseSnowflake(ids[4096]!).timestampMs, parseSnowflake(ids[0]!).timestampMs + 1);
    assert.equal(new Set(ids.map(String)).size, 4097);
  });

  it('nextSync borrows the next millisecond instead of waiting, still unique and increasing', () => {
    const clock = manualClock(Date.parse('2026-06-01T00:00:00Z'));
    const gen = new SnowflakeGenerator({ workerId: 3, now: clock.now });
    let last = 0n;
    for (let i = 0; i < 10_000; i++) {
      const id = BigInt(gen.nextSync());
      assert.ok(id > last);
      last = id;
    }
    assert.equal(parseSnowflake(last).timestampMs, clock.t + 2);
  });

  it('rejects worker ids outside 0..1023', () => {
    assert.throws(() => new SnowflakeGenerator({ workerId: 1024 }), InvalidArgumentError);
    assert.throws(() => new SnowflakeGenerator({ workerId: -1 }), InvalidArgumentError);
    assert.throws(() => new SnowflakeGenerator({ workerId: 1.5 }), InvalidArgumentError);
  });
});
