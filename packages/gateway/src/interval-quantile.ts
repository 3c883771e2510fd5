// A quantile of the latencies seen in one measuring interval, in fixed memory: counts in log-spaced
// buckets (four per doubling, from 1 ms to about 55 s), so a sample costs one log2 and an increment, and
// a quantile is read to within 19 % (the bucket's width). Hand-written because it sits on the gateway's
// per-message path (path-window.ts calls it for every own message that comes back) and needs nothing a
// general histogram library adds (merging, precision settings, allocation per interval).

const BUCKETS_PER_DOUBLING = 4;
/** 2^(63/4) ms ≈ 55 s: the last bucket also takes everything slower. */
const BUCKETS = 64;

/** The bucket of a latency: the smallest i with ms ≤ 2^(i/4) (0 for ms ≤ 1). */
function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log2(ms) * BUCKETS_PER_DOUBLING));
}

export class IntervalQuantile {
  readonly #counts = new Uint32Array(BUCKETS);
  #total = 0;

  /** Samples since the last reset. */
  get count(): number {
    return this.#total;
  }

  add(ms: number): void {
    this.#counts[bucketOf(ms)]!++;
    this.#total++;
  }

  /**
   * The q-quantile (0 < q ≤ 1) of the samples since the last reset, as the upper bound of its bucket
   * (so never below the true value); 0 when there were none.
   */
  quantile(q: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.ceil(q * this.#total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return 2 ** (i / BUCKETS_PER_DOUBLING);
    }
    return 2 ** ((BUCKETS - 1) / BUCKETS_PER_DOUBLING);
  }

  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
  }
}
