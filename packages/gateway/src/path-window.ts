// The whole path's window: how many of this gateway's confirmed messages may be on their way through
// the persist queue, the persister and the dispatch (confirmed, their MESSAGE_CREATE not back yet).
//
// Why a window and not the in-flight bound of admission.ts: a write leaves the in-flight count at its
// broker confirm, within milliseconds, and then waits in the persist queue and the persister's batches;
// bounding confirm-pending writes cannot bound that backlog (at 2× the persister's capacity accepted
// writes reached p99 2.6–3.2 s with the in-flight bound at its floor: bench/results/w1.md).
//
// The rule. The signal is the path's tail: the 90th percentile of the latencies of the messages that came
// back in each 250 ms interval, smoothed over ~1 s. A mean was the signal before 2026-12-04; a window
// that held the mean at the target let the tail run to 3-8x it (at 4x the knee, accepted p99 0.9-1.8 s
// with a 150 ms target: bench/results/overload-2026-12-03.md), because on a saturated machine a batch
// that waits for a CPU delays all its messages at once.
// - Engaging: once the smoothed p90 has been above `targetMs` for `sustainIntervals` intervals in a row
//   (a single slow batch does not engage it; measured before: a limit that reacted to one burst refused
//   an e2e test's sequential sends during a persister restart), the window starts at
//   `returnRate x targetMs` (Little's law: on the path = rate x latency; what drains within the target),
//   where `returnRate` is how many of this gateway's messages come back per second.
// - Steering: from then on, every interval multiplies the window by target / that interval's p90, kept
//   within [0.75, 1.25] per interval: it shrinks while the tail is over the target and grows while it is
//   under, so it settles where the tail meets the target rather than the mean.
// - Letting go: once the smoothed p90 has been under half the target for `sustainIntervals` intervals, or
//   the window has grown back to `maxWindow`, nothing is limited until the next engagement.
// - Before it engages, what is on the path may take at most twice the target to drain at the current
//   return rate: at most `returnRate x 2 x targetMs` messages (never fewer than `burstWindow`). The tail
//   is measured only when messages come back, a path latency later and smoothed over three intervals; in
//   that time a step from 2x to 4x the knee admitted a second of excess (the step's p99 659-859 ms where
//   later seconds of the same overload stayed under 260 ms). What is on the path leads the latency: a
//   healthy path holds `returnRate x latency`, far under this bound.
// - A path that delivers nothing (the persister is down) does not engage it, and once nothing has come
//   back for a second the headroom bound lapses too: the persist queue itself is the buffer for that
//   (bounded by `x-max-length`, refused as `overloaded`). Once engaged, it stays so while nothing comes
//   back, its window shrinking by 0.75 an interval.
// - Never below `minWindow`, so a slow path keeps some writes flowing and keeps being measured.
// It is a window, not a rate, so a burst within the window passes and a steady sender is never refused
// for its own pace: only a backlog that has built up is.
// Only messages expected back are counted: the caller tracks those whose author has a socket on this
// gateway (the dispatch reaches the author's gateway). One that never comes back is forgotten after
// `forgetAfterMs`. The map is bounded by `maxWindow` (refused past it in any case).
import { IntervalQuantile } from './interval-quantile.js';

export interface PathWindowOptions {
  /** The path latency (own write → its MESSAGE_CREATE back) its slowest tenth should stay under, ms (> 0). */
  targetMs: number;
  /** Messages on the path at most, whatever the latency. Default 16,384. */
  maxWindow?: number;
  /** The window never goes below this. Default 128. */
  minWindow?: number;
  /** Before it engages, the headroom bound never goes below this. Default 512. */
  burstWindow?: number;
  /** How often the latency and return rate are measured, ms. Default 250. */
  intervalMs?: number;
  /** Intervals in a row above the target before the window applies (and under half of it before it lets go). Default 3. */
  sustainIntervals?: number;
  /** A tracked message not back after this long is no longer counted, ms. Default 10,000. */
  forgetAfterMs?: number;
  /** Clock in ms (tests). Default performance.now. */
  now?: () => number;
}

/** Weight of the newest interval in the smoothed tail and return rate: about a second of history. */
const SMOOTHING = 0.3;
/** The quantile of an interval's latencies that is steered to the target. */
const TAIL = 0.9;
/** Before it engages: what is on the path may take this many times the target to drain. */
const HEADROOM = 2;
/** Nothing back for this long: the path is stalled, not slow (the persist queue buffers it), ms. */
const STALLED_AFTER_MS = 1000;
/** Bounds of the window's change per interval. */
const MAX_SHRINK = 0.75;
const MAX_GROWTH = 1.25;

/** Moves `average` towards `sample` by the weight of `intervals` intervals (a long quiet gap weighs more). */
const smooth = (average: number | undefined, sample: number, intervals: number) =>
  average === undefined ? sample : average + (1 - (1 - SMOOTHING) ** intervals) * (sample - average);

export class PathWindow {
  readonly #targetMs: number;
  readonly #maxWindow: number;
  readonly #minWindow: number;
  readonly #burstWindow: number;
  readonly #intervalMs: number;
  readonly #sustain: number;
  readonly #forgetAfterMs: number;
  readonly #now: () => number;
  /** Tracked messages on the path: id → when confirmed (insertion order = age order). */
  readonly #onPath = new Map<string, number>();
  #intervalStart: number;
  /** This interval's latencies of own messages back. */
  readonly #back = new IntervalQuantile();
  #tailMs: number | undefined;
  #returnRate: number | undefined;
  /** When an own message last came back (-Infinity: never). */
  #lastBackAt = Number.NEGATIVE_INFINITY;
  /** Intervals in a row with the smoothed tail above the target / under half of it. */
  #overFor = 0;
  #underFor = 0;
  /** The window while engaged; undefined: not engaged (the headroom bound, or none while stalled). */
  #window: number | undefined;

  constructor(options: PathWindowOptions) {
    if (!(options.targetMs > 0)) throw new RangeError('targetMs must be > 0');
    this.#targetMs = options.targetMs;
    this.#maxWindow = options.maxWindow ?? 16_384;
    this.#minWindow = Math.min(options.minWindow ?? 128, this.#maxWindow);
    this.#burstWindow = Math.min(Math.max(options.burstWindow ?? 512, this.#minWindow), this.#maxWindow);
    this.#intervalMs = options.intervalMs ?? 250;
    this.#sustain = options.sustainIntervals ?? 3;
    this.#forgetAfterMs = options.forgetAfterMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
    this.#intervalStart = this.#now();
  }

  /** Messages counted on the path now. */
  get onPath(): number {
    this.#steer(this.#now());
    return this.#onPath.size;
  }

  /** How many may be on the path now: the window while engaged, else the headroom bound (see above). */
  get limit(): number {
    const now = this.#now();
    this.#steer(now);
    if (this.#window !== undefined) return Math.floor(this.#window);
    if (this.#returnRate === undefined || now - this.#lastBackAt > STALLED_AFTER_MS) return this.#maxWindow;
    const headroom = Math.floor((this.#returnRate * HEADROOM * this.#targetMs) / 1000);
    return Math.min(this.#maxWindow, Math.max(this.#burstWindow, headroom));
  }

  /** Whether the tail has engaged the window (it steers the limit until it lets go). */
  get engaged(): boolean {
    this.#steer(this.#now());
    return this.#window !== undefined;
  }

  /** The smoothed 90th percentile of the path's latency, ms (0: nothing measured yet). */
  get tailMs(): number {
    return this.#tailMs ?? 0;
  }

  /** Whether one more write may start now (it counts once `confirmed` is called with its id). */
  admits(): boolean {
    return this.onPath < this.limit;
  }

  /** A write of message `id` was confirmed and its MESSAGE_CREATE is expected back here. */
  confirmed(id: string): void {
    this.#steer(this.#now());
    if (this.#onPath.size >= this.#maxWindow) return; // admits() refuses past it; writes in flight may still land
    this.#onPath.set(id, this.#now());
  }

  /** One of this gateway's messages came back, `ms` after it was written. */
  cameBack(id: string, ms: number): void {
    const now = this.#now();
    this.#steer(now);
    this.#onPath.delete(id);
    this.#back.add(ms);
    this.#lastBackAt = now;
  }

  #clamp(window: number): number {
    return Math.min(this.#maxWindow, Math.max(this.#minWindow, window));
  }

  #steer(now: number): void {
    const elapsed = now - this.#intervalStart;
    if (elapsed < this.#intervalMs) return;
    const intervals = elapsed / this.#intervalMs;
    const back = this.#back.count;
    this.#returnRate = smooth(this.#returnRate, (back * 1000) / elapsed, intervals);
    if (back > 0) {
      const tail = this.#back.quantile(TAIL);
      this.#tailMs = smooth(this.#tailMs, tail, 1);
      this.#overFor = this.#tailMs > this.#targetMs ? this.#overFor + 1 : 0;
      this.#underFor = this.#tailMs < this.#targetMs / 2 ? this.#underFor + 1 : 0;
      if (this.#window === undefined) {
        if (this.#overFor >= this.#sustain) this.#window = this.#clamp((this.#returnRate * this.#targetMs) / 1000);
      } else {
        const factor = Math.min(MAX_GROWTH, Math.max(MAX_SHRINK, this.#targetMs / tail));
        this.#window = this.#clamp(this.#window * factor);
        if (this.#underFor >= this.#sustain || this.#window >= this.#maxWindow) this.#window = undefined;
      }
    } else if (this.#window !== undefined) {
      // An interval with nothing back says nothing of the latency (the persister delivers in batches),
      // but an engaged path that returns nothing is stalled: shrink towards the floor.
      this.#window = this.#clamp(this.#window * MAX_SHRINK ** Math.min(intervals, 8));
    }
    this.#intervalStart = now;
    this.#back.reset();
    const forgetBefore = now - this.#forgetAfterMs;
    for (const [id, at] of this.#onPath) {
      if (at >= forgetBefore) break;
      this.#onPath.delete(id);
    }
  }
}
