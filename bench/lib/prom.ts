// Reads a service's /metrics (Prometheus text format): counters, gauges and histograms, the
// difference of two scrapes, and quantiles from histogram buckets as Prometheus computes them.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Histogram {
  /** Upper bounds of the buckets, ascending, the last one +Inf. */
  le: number[];
  /** Cumulative counts per bucket. */
  cumulative: number[];
  sum: number;
  count: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text exposition format (comments and blank lines skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    const v = m[3]!;
    out.push({ name: m[1]!, labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) });
  }
  return out;
}

function matches(sample: Sample, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(labels)) if (sample.labels[k] !== v) return false;
  return true;
}

/** One scrape of one service. */
export class Metrics {
  readonly samples: Sample[];
  readonly at: number;

  constructor(samples: Sample[], at = performance.now()) {
    this.samples = samples;
    this.at = at;
  }

  /** Sum of every sample named `name` whose labels include `labels` (0 when none). */
  value(name: string, labels: Record<string, string> = {}): number {
    let total = 0;
    for (const s of this.samples) if (s.name === name && matches(s, labels)) total += s.value;
    return total;
  }

  /** A histogram, summed over label sets that include `labels`. */
  histogram(name: string, labels: Record<string, string> = {}): Histogram {
    const byLe = new Map<number, number>();
    for (const s of this.samples) {
      if (s.name !== `${name}_bucket` || !matches(s, labels)) continue;
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      byLe.set(le, (byLe.get(le) ?? 0) + s.value);
    }
    const le = [...byLe.keys()].sort((a, b) => a - b);
    return {
      le,
      cumulative: le.map((b) => byLe.get(b)!),
      sum: this.value(`${name}_sum`, labels),
      count: this.value(`${name}_count`, labels),
    };
  }
}

/** GETs and parses a /metrics endpoint (time-limited). */
export async function scrape(url: string, timeoutMs = 30_000): Promise<Metrics> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  const text = await res.text();
  return new Metrics(parseMetrics(text));
}

/** What was observed between two scrapes of the same histogram. */
export function histogramDelta(before: Histogram, after: Histogram): Histogram {
  const prev = new Map(before.le.map((b, i) => [b, before.cumulative[i]!]));
  return {
    le: after.le,
    cumulative: after.le.map((b, i) => after.cumulative[i]! - (prev.get(b) ?? 0)),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/** What one histogram of a service observed between two scrapes of its metrics. */
export function observedBetween(
  before: Metrics,
  after: Metrics,
  name: string,
  labels: Record<string, string> = {},
): Histogram {
  return histogramDelta(before.histogram(name, labels), after.histogram(name, labels));
}

/**
 * The q-quantile (0..1) by linear interpolation inside the bucket that holds it, like PromQL's
 * histogram_quantile(); NaN without observations. Only as precise as the bucket bounds.
 */
export function histogramQuantile(h: Histogram, q: number): number {
  const total = h.cumulative[h.cumulative.length - 1] ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < h.le.length; i++) {
    if (h.cumulative[i]! >= rank) {
      const upper = h.le[i]!;
      const lower = i === 0 ? 0 : h.le[i - 1]!;
      if (upper === Infinity) return lower;
      const below = i === 0 ? 0 : h.cumulative[i - 1]!;
      const inBucket = h.cumulative[i]! - below;
      return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
    }
  }
  return h.le[h.le.length - 1]!;
}

/** The bucket bound at or above the q-quantile ("p99 ≤ X"): what the histogram can prove. */
export function histogramUpperBound(h: Histogram, q: number): number {
  const total = h.cumulative[h.cumulative.length - 1] ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < h.le.length; i++) if (h.cumulative[i]! >= rank) return h.le[i]!;
  return Infinity;
}
