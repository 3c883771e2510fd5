// Small statistics shared by the scenarios: medians, latency histograms, seeded randomness.
import hdr from 'hdr-histogram-js';

/** Median of a non-empty list (mean of the middle two for an even length). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export type LatencyHistogram = ReturnType<typeof hdr.build>;

/** An HDR histogram for latencies recorded in microseconds (1 µs .. 10 min, 3 significant digits). */
export function latencyHistogram(): LatencyHistogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Records a duration given in ms into a µs histogram (clamped to ≥ 1 µs). */
export function recordMs(h: LatencyHistogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarize(h: LatencyHistogram): LatencySummary {
  return {
    count: h.totalCount,
    p50Ms: h.getValueAtPercentile(50) / 1000,
    // HDR reports a bucket's upper end; never show a p99 above the largest value recorded.
    p99Ms: Math.min(h.getValueAtPercentile(99), h.maxValue) / 1000,
    maxMs: h.maxValue / 1000,
  };
}

/** mulberry32: a small seeded PRNG, so that A and B of one comparison get the same random targets. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Milliseconds on a clock shared by every process of this machine (for cross-process latency). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
