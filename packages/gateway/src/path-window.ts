// The whole path's window: how many of this gateway's confirmed messages may be on their way through
// the persist queue, the persister and the dispatch (confirmed, their MESSAGE_CREATE not back yet).
//
// Why a window and not the in-flight bound of admission.ts: a write leaves the in-flight count at its
// broker confirm, within milliseconds, and then waits in the persist queue and the persister's batches;
// bounding confirm-pending writes cannot bound that backlog (at 2× the persister's capacity accepted
// writes reached p99 2.6–3.2 s with the in-flight bound at its floor: bench/results/w1.md).
//
// The rule (Little's law: on the path = rate × latency). While the path's latency stays above
// `targetMs`, at most `returnRate × targetMs` messages may be on the path, where `returnRate` is how
// many of this gateway's messages come back per second — so what waits on the path drains within about
// the target, and the rest is refused at once. It is a window, not a rate, so a burst within the window
// passes and a steady sender is never refused for its own pace: only a backlog that has built up is.
// - "Stays above": the latency, smoothed over ~1 s of 250 ms intervals, has been above the target for
//   `sustainIntervals` intervals in a row (a single slow batch does not engage it; measured before: a
//   limit that reacted to one burst refused an e2e test's sequential sends during a persister restart).
// - A path that delivers nothing (the persister is down) does not engage it: no latency is measured, and
//   the persist queue itself is the buffer for that (bounded by `x-max-length`, refused as `overloaded`).
//   Once engaged, it stays so while nothing comes back, its window falling to `minWindow`.
// - Never below `minWindow`, so a slow path keeps some writes flowing and keeps being measured.
// Only messages expected back are counted: the caller tracks those whose author has a socket on this
// gateway (the dispatch reaches the author's gateway). One that never comes back is forgotten after
// `forgetAfterMs`. The map is bounded by `maxWindow` (refused past it in any case).

export interface PathWindowOptions {
  /** The path latency (own write → its MESSAGE_CREATE back) above which the window applies, ms (> 0). */
  targetMs: number;
  /** Messages on the path at most, whatever the latency. Default 16,384. */
  maxWindow?: number;
  /** The window never goes below this. Default 128. */
  minWindow?: number;
  /** How often the latency and return rate are measured, ms. Default 250. */
  intervalMs?: number;
  /** Intervals in a row above the target before the window applies. Default 3. */
  sustainIntervals?: number;
  /** A tracked message not back after this long is no longer counted, ms. Default 10,000. */
  forgetAfterMs?: number;
  /** Clock in ms (tests). Default performance.now. */
  now?: () => number;
}

/** Weight of the newest interval in the smoothed latency and return rate: about a second of history. */
const SMOOTHING = 0.3;

/** Moves `average` towards `sample` by the weight of `intervals` intervals (a long quiet gap weighs more). */
const smooth = (average: number | undefined, sample: number, intervals: number) =>
  average === undefined ? sample : average + (1 - (1 - SMOOTHING) ** intervals) * (sample - average);

export class PathWindow {
  readonly #targetMs: number;
  readonly #maxWindow: number;
  readonly #minWindow: number;
  readonly #intervalMs: number;
  readonly #sustain: number;
  readonly #forgetAfterMs: number;
  readonly #now: () => number;
  /** Tracked messages on the path: id → when confirmed (insertion order = age order). */
  readonly #onPath = new Map<string, number>();
  #intervalStart: number;
  /** This interval: own messages back and their summed latency. */
  #back = 0;
  #latencySum = 0;
  #averageMs: number | undefined;
  #returnRate: number | undefined;
  /** Intervals in a row with the smoothed latency above the target. */
  #overFor = 0;

  constructor(options: PathWindowOptions) {
    if (!(options.targetMs > 0)) throw new RangeError('targetMs must be > 0');
    this.#targetMs = options.targetMs;
    this.#maxWindow = options.maxWindow ?? 16_384;
    this.#minWindow = Math.min(options.minWindow ?? 128, this.#maxWindow);
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

  /** How many may be on the path now: `maxWindow` unless the path has been slow (see above). */
  get limit(): number {
    this.#steer(this.#now());
    if (this.#overFor < this.#sustain) return this.#maxWindow;
    const window = Math.floor(((this.#returnRate ?? 0) * this.#targetMs) / 1000);
    return Math.min(this.#maxWindow, Math.max(this.#minWindow, window));
  }

  /** The path's smoothed latency, ms (0: nothing measured yet). */
  get averageMs(): number {
    return this.#averageMs ?? 0;
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
    this.#steer(this.#now());
    this.#onPath.delete(id);
    this.#back++;
    this.#latencySum += ms;
  }

  #steer(now: number): void {
    const elapsed = now - this.#intervalStart;
    if (elapsed < this.#intervalMs) return;
    const intervals = elapsed / this.#intervalMs;
    if (this.#back > 0) this.#averageMs = smooth(this.#averageMs, this.#latencySum / this.#back, 1);
    this.#returnRate = smooth(this.#returnRate, (this.#back * 1000) / elapsed, intervals);
    // An interval with nothing back says nothing of the latency (the persister delivers in batches):
    // the count stays as it was.
    if (this.#back > 0) this.#overFor = this.#averageMs! > this.#targetMs ? this.#overFor + 1 : 0;
    this.#intervalStart = now;
    this.#back = 0;
    this.#latencySum = 0;
    const forgetBefore = now - this.#forgetAfterMs;
    for (const [id, at] of this.#onPath) {
      if (at >= forgetBefore) break;
      this.#onPath.delete(id);
    }
  }
}
