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
    /** One interval: `sent` writes confirmed, the oldest `back` of those on the path come back after `latencyMs`. */
    interval(sent: number, back: number, latencyMs: number): void {
      for (let i = 0; i < sent; i++) {
        const id = String(nextId++);
        w.confirmed(id);
        onPath.push(id);
      }
      for (const id of onPath.splice(0, back)) w.cameBack(id, latencyMs);
      now += 250;
    },
    advance(ms: number): void {
      now += ms;
    },
  };
}

describe('the whole path window', () => {
  it('a path under its target never limits: a burst within the window passes', () => {
    const d = driven();
    for (let i = 0; i < 8; i++) d.interval(100, 100, 50);
    d.interval(5000, 0, 50);
    assert.equal(d.w.limit, 16_384);
    assert.equal(d.w.onPath, 5000);
    assert.ok(d.w.admits());
  });

  it('engages only after the latency stayed above the target for three intervals, then holds the path to target × return rate', () => {
    const d = driven();
    d.interval(500, 500, 50);
    d.interval(500, 250, 900); // one slow interval: the smoothed latency is over, but not for long enough
    d.interval(500, 250, 900);
    assert.equal(d.w.limit, 16_384, 'two intervals over: not yet');
    d.interval(500, 250, 900);
    // Return rate smoothed towards 1,000/s (250 per 250 ms): window ≈ 1,000 × 0.2 s, well under what is on the path.
    const limit = d.w.limit;
    assert.ok(limit > 16 && limit < 300, String(limit));
    assert.ok(d.w.onPath > limit);
    assert.equal(d.w.admits(), false);
  });

  it('a stalled path does not engage it (nothing measured); an engaged one falls to its floor while nothing comes back', () => {
    const d = driven();
    d.interval(100, 100, 50);
    for (let i = 0; i < 10; i++) d.interval(100, 0, 0);
    assert.equal(d.w.limit, 16_384, 'the persist queue buffers a stalled persister');
    for (let i = 0; i < 4; i++) d.interval(0, 200, 2000);
    assert.ok(d.w.limit < 16_384, 'engaged by the slow returns');
    for (let i = 0; i < 20; i++) d.interval(0, 0, 0);
    assert.equal(d.w.limit, 16, 'nothing back: the floor');
  });

  it('lets go once the path is fast again', () => {
    const d = driven();
    for (let i = 0; i < 5; i++) d.interval(400, 200, 1000);
    assert.ok(d.w.limit < 16_384);
    for (let i = 0; i < 12; i++) d.interval(100, 300, 20);
    assert.equal(d.w.limit, 16_384);
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
