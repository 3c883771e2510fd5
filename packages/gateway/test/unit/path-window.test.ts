import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PathWindow } from '../../src/path-window.js';

/** A window on a fake clock, and a driver that plays one 250 ms interval of writes and returns. */
function driven(options: { targetMs?: number; minWindow?: number; maxWindow?: number } = {}) {
  let now = 0;
  const w = new PathWindow({
    targetMs: options.targetMs ?? 200,
    minWindow: options.minWindow ?? 16,
    maxWindow: options.maxWindow,
    now: () => now,
  });
  let nextId = 0;
  const onPath: string[] = [];
  return {
    w,
    /**
     * One interval: `sent` writes confirmed, the oldest `back` of those on the path come back after
     * `latencyMs`, and then `slow` more of them after `slowMs`.
     */
    interval(sent: number, back: number, latencyMs: number, slow = 0, slowMs = 0): void {
      for (let i = 0; i < sent; i++) {
        const id = String(nextId++);
        w.confirmed(id);
        onPath.push(id);
      }
      for (const id of onPath.splice(0, back)) w.cameBack(id, latencyMs);
      for (const id of onPath.splice(0, slow)) w.cameBack(id, slowMs);
      now += 250;
    },
    advance(ms: number): void {
      now += ms;
    },
  };
}

describe('the whole path window', () => {
  it('before it engages, holds what is on the path to what drains in twice the target, never under 512', () => {
    const d = driven();
    for (let i = 0; i < 8; i++) d.interval(2000, 2000, 50); // 8,000/s back, in 50 ms: far under the 200 ms target
    assert.equal(d.w.engaged, false);
    assert.equal(d.w.limit, 3200, '8,000/s × 2 × 0.2 s');
    for (let i = 0; i < 3200; i++) d.w.confirmed(`burst-${i}`);
    assert.equal(d.w.admits(), false, 'past it: refused');
    d.w.cameBack('burst-0', 50);
    assert.ok(d.w.admits(), 'a burst within it passes');

    const slow = driven();
    for (let i = 0; i < 8; i++) slow.interval(100, 100, 50); // 400/s back: 160 by the rate, the floor is higher
    assert.equal(slow.w.limit, 512);
  });

  it('a path that returned nothing for a second is stalled, not slow: the persist queue buffers it', () => {
    const d = driven();
    for (let i = 0; i < 4; i++) d.interval(2000, 2000, 50);
    assert.equal(d.w.limit, 3200);
    d.advance(1001);
    assert.equal(d.w.limit, 16_384);
  });

  it('engages only after the latency stayed above the target for three intervals, then holds the path to target × return rate', () => {
    const d = driven();
    d.interval(500, 500, 50);
    d.interval(500, 250, 900); // one slow interval: the smoothed latency is over, but not for long enough
    d.interval(500, 250, 900);
    assert.equal(d.w.engaged, false, 'two intervals over: not yet');
    d.interval(500, 250, 900);
    assert.equal(d.w.engaged, true);
    // Return rate smoothed towards 1,000/s (250 per 250 ms): window ≈ 1,000 × 0.2 s, well under what is on the path.
    const limit = d.w.limit;
    assert.ok(limit > 16 && limit < 300, String(limit));
    assert.ok(d.w.onPath > limit);
    assert.equal(d.w.admits(), false);
  });

  it('steers the slowest tenth, not the mean: a tail over the target engages it with the mean under', () => {
    const d = driven();
    // 85 % back in 20 ms, 15 % in 900 ms: mean 152 ms (under the 200 ms target), 90th percentile 900 ms.
    for (let i = 0; i < 4; i++) d.interval(200, 170, 20, 30, 900);
    assert.ok(d.w.tailMs > 200, String(d.w.tailMs));
    assert.equal(d.w.engaged, true, 'engaged by the tail');
  });

  it('shrinks the window while the tail stays over the target, grows it while under, by at most 0.75× / 1.25× an interval', () => {
    const d = driven({ targetMs: 200, minWindow: 16 });
    for (let i = 0; i < 3; i++) d.interval(2000, 1000, 900);
    const first = d.w.limit;
    assert.ok(d.w.engaged && first > 16, String(first));
    d.interval(1000, 1000, 400); // tail 2× the target: the most it shrinks in one interval
    assert.equal(d.w.limit, Math.floor(first * 0.75));
    d.interval(1000, 1000, 400);
    const shrunk = d.w.limit;
    assert.ok(shrunk < first * 0.75 && shrunk >= 16, String(shrunk));
    // Tail at 130 ms: under the target, not under half of it; the smoothed tail must fall first.
    for (let i = 0; i < 8; i++) d.interval(1000, 1000, 130);
    const grown = d.w.limit;
    assert.ok(grown > shrunk, `grew from ${shrunk} to ${grown}`);
    assert.equal(d.w.engaged, true, 'not let go: the tail is not under half the target');
  });

  it('a stalled path does not engage it (nothing measured); an engaged one falls to its floor while nothing comes back', () => {
    const d = driven();
    d.interval(100, 100, 50);
    for (let i = 0; i < 10; i++) d.interval(100, 0, 0);
    assert.equal(d.w.limit, 16_384, 'the persist queue buffers a stalled persister');
    for (let i = 0; i < 4; i++) d.interval(0, 200, 2000);
    assert.equal(d.w.engaged, true, 'engaged by the slow returns');
    for (let i = 0; i < 20; i++) d.interval(0, 0, 0);
    assert.equal(d.w.limit, 16, 'nothing back: the floor');
  });

  it('lets go once the path is fast again', () => {
    const d = driven();
    for (let i = 0; i < 5; i++) d.interval(400, 200, 1000);
    assert.equal(d.w.engaged, true);
    for (let i = 0; i < 12; i++) d.interval(100, 300, 20);
    assert.equal(d.w.engaged, false);
    assert.ok(d.w.admits());
  });

  it('forgets a message not back after 10 s, and tracks at most maxWindow', () => {
    const d = driven({ maxWindow: 100 });
    d.interval(150, 0, 0);
    assert.equal(d.w.onPath, 100, 'bounded by maxWindow');
    assert.equal(d.w.admits(), false);
    d.advance(10_000);
    assert.equal(d.w.onPath, 0);
    assert.ok(d.w.admits());
  });

  it('refuses a target that is not positive', () => {
    assert.throws(() => new PathWindow({ targetMs: 0 }), RangeError);
  });
});
