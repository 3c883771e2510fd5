// A rate limit on durable writes, steered by the whole path's latency (write → its own MESSAGE_CREATE
// back at this gateway: broker, persister, store, dispatch). Why a rate and not an in-flight bound:
// a write leaves the gateway's in-flight count at its broker confirm, within milliseconds, and then
// waits in the persist queue and the persister's batches; bounding the confirm-pending writes cannot
// bound that backlog (at 2× the persister's capacity the accepted writes' p99 reached 2.6 s with the
// in-flight bound at its floor — bench/results/w1.md). What comes back per second is what the path can
// do for this gateway, so under a slow path this gateway admits a little less than that, and the
// backlog (and with it the latency) drains.
//
// Control, once per `intervalMs`, from the path's moving average, the writes admitted and the writes
// that came back in the interval (per second):
// - above `targetMs` with clearly more admitted than came back (a backlog is building): the rate
//   becomes what came back × clamp(target / average, 0.7, 0.9), so the backlog drains — at most once
//   per path latency, since what comes back shows the effect of a cut only that much later;
// - otherwise an imposed rate grows by 25 % per interval — also above the target, when the path is slow
//   but keeping up: cutting on latency alone compounds into a collapse, since what comes back follows
//   what was admitted (measured: W1 at 1,000/s fell to a fifth of its rate that way) — and it is lifted
//   once what is admitted stays below half of it.
// Never below `minRate` per second, so samples keep coming and the limit can lift. Admission is a
// token bucket holding at most `burstMs` of the rate.

export interface PathRateOptions {
  /** Moving-average latency of the whole path above which the rate is limited (ms, > 0). */
  targetMs: number;
  /** How often the rate is steered, ms. Default 250. */
  intervalMs?: number;
  /** Lowest rate ever imposed, writes per second. Default 20. */
  minRate?: number;
  /** Bucket size, as ms of the rate. Default 50. */
  burstMs?: number;
  /** Clock in ms (tests). Default performance.now. */
  now?: () => number;
}

/**
 * Weight of the newest interval in the smoothed figures: about a second of history at the default
 * interval. Why smoothed per interval, not per sample: the persister delivers in batches, so what comes
 * back in one 250 ms interval swings between nothing and a burst (measured: 0 to 1,400/s at a steady
 * 500/s), and a per-sample average follows each batch's oldest messages.
 */
const SMOOTHING = 0.3;

const smooth = (average: number | undefined, sample: number) =>
  average === undefined ? sample : average + SMOOTHING * (sample - average);

export class PathRateLimit {
  readonly #targetMs: number;
  readonly #intervalMs: number;
  readonly #minRate: number;
  readonly #burstMs: number;
  readonly #now: () => number;
  /** Writes per second admitted at most; Infinity: no limit. */
  #rate = Number.POSITIVE_INFINITY;
  #tokens = 0;
  #refilledAt: number;
  #intervalStart: number;
  /** This interval: writes admitted, writes that came back and their summed latency. */
  #admitted = 0;
  #cameBack = 0;
  #latencySum = 0;
  /** Smoothed over intervals (undefined: nothing measured yet). */
  #averageMs: number | undefined;
  #admittedRate: number | undefined;
  #cameBackRate: number | undefined;
  /** When the rate was last cut (ms; -Infinity: never). */
  #cutAt = Number.NEGATIVE_INFINITY;

  constructor(options: PathRateOptions) {
    if (!(options.targetMs > 0)) throw new RangeError('targetMs must be > 0');
    this.#targetMs = options.targetMs;
    this.#intervalMs = options.intervalMs ?? 250;
    this.#minRate = options.minRate ?? 20;
    this.#burstMs = options.burstMs ?? 50;
    this.#now = options.now ?? (() => performance.now());
    this.#refilledAt = this.#intervalStart = this.#now();
  }

  /** The rate imposed now, writes per second (Infinity: none). */
  get rate(): number {
    this.#steer(this.#now());
    return this.#rate;
  }

  /** The path's smoothed latency, ms (0: no sample yet). */
  get averageMs(): number {
    return this.#averageMs ?? 0;
  }

  /** One of this gateway's writes came back after `ms`. */
  observe(ms: number): void {
    this.#cameBack++;
    this.#latencySum += ms;
  }

  /** Takes one write's place if the rate allows it now; false: refuse it. */
  tryTake(): boolean {
    const now = this.#now();
    this.#steer(now);
    if (this.#rate === Number.POSITIVE_INFINITY) {
      this.#admitted++;
      return true;
    }
    const burst = Math.max(1, (this.#rate * this.#burstMs) / 1000);
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#refilledAt) * this.#rate) / 1000);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens--;
    this.#admitted++;
    return true;
  }

  #steer(now: number): void {
    const elapsed = now - this.#intervalStart;
    if (elapsed < this.#intervalMs) return;
    const perSecond = 1000 / elapsed;
    if (this.#cameBack > 0) this.#averageMs = smooth(this.#averageMs, this.#latencySum / this.#cameBack);
    this.#admittedRate = smooth(this.#admittedRate, this.#admitted * perSecond);
    this.#cameBackRate = smooth(this.#cameBackRate, this.#cameBack * perSecond);
    const admitted = this.#admittedRate;
    const cameBack = this.#cameBackRate;
    this.#intervalStart = now;
    this.#admitted = 0;
    this.#cameBack = 0;
    this.#latencySum = 0;
    const over = this.#averageMs !== undefined && this.#averageMs > this.#targetMs;
    // Nothing coming back (a stalled path) counts as a backlog building on what was admitted.
    // At most one cut per path latency: what comes back after a cut shows its effect only that much later.
    const settled = now - this.#cutAt >= Math.max(2 * this.#intervalMs, this.#averageMs ?? 0);
    if (over && admitted > cameBack * 1.2) {
      if (!settled) return;
      this.#cutAt = now;
      const factor = Math.min(0.9, Math.max(0.7, this.#targetMs / this.#averageMs!));
      const base = cameBack > 0 ? cameBack : Math.min(this.#rate, admitted);
      if (this.#rate === Number.POSITIVE_INFINITY) {
        this.#tokens = 0;
        this.#refilledAt = now;
      }
      this.#rate = Math.max(this.#minRate, Math.min(this.#rate, base * factor));
    } else if (this.#rate !== Number.POSITIVE_INFINITY) {
      this.#rate = admitted < this.#rate * 0.5 ? Number.POSITIVE_INFINITY : this.#rate * 1.25;
    }
  }
}
