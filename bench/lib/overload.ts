// W1's overload accounting (issue #8: overload is shed, not queued). The gateways refuse durable
// writes past their admission bounds, or when the persist queue is full, with the RESPONSE error
// `overloaded`: nothing was stored. So a step's requests split into acked, refused and other; a
// refused request is not a loss. What counts: every acked message must be delivered (acked-lost =
// acked and never received, judged once the queues have drained: late is not lost), and goodput = messages acked AND delivered per second of the send
// window. The overload steps run at 2× and 4× the knee (the highest R that met p99 < 100 ms with no
// loss and nothing refused, or --knee).
import { type Cell, fmt, formatTable } from './table.js';

export interface SheddingReport {
  /** The loader's index as a sender (-1: it sent nothing). */
  origin: number;
  /** Per sequence number of that sender: 1 = acked. */
  acked: Uint8Array;
  respErr: Record<string, number>;
}

export interface Shedding {
  acked: number;
  refused: number;
  /** RESPONSE errors other than `overloaded` (e.g. `unavailable`: may or may not be stored). */
  otherErrors: number;
  /** Acked and received by the recipient (by the end of the grace period). */
  ackedDelivered: number;
  /** Acked and never received (in w1: judged after the drain, when the queues are empty): must be 0. */
  ackedLost: number;
  /** Acked and received only after the grace period (not in goodput, not lost). */
  lateDelivered?: number;
}

/** Splits a step's requests, given the receipts per sender (`received[origin][seq]` = copies). */
export function sheddingOf(reports: readonly SheddingReport[], received: ReadonlyMap<number, Uint8Array>): Shedding {
  const out: Shedding = { acked: 0, refused: 0, otherErrors: 0, ackedDelivered: 0, ackedLost: 0 };
  for (const r of reports) {
    for (const [code, n] of Object.entries(r.respErr)) {
      if (code === 'overloaded') out.refused += n;
      else out.otherErrors += n;
    }
    if (r.origin < 0) continue;
    const got = received.get(r.origin);
    for (let seq = 0; seq < r.acked.length; seq++) {
      if (r.acked[seq] !== 1) continue;
      out.acked++;
      if (got && seq < got.length && got[seq]! > 0) out.ackedDelivered++;
      else out.ackedLost++;
    }
  }
  return out;
}

export interface OverloadStep {
  tag: string;
  rate: number;
  durationS: number;
  sentPerSec: number;
  deliveredPerSec: number;
  shedding: Shedding;
  latency: { p99Ms: number };
  messagesWithDuplicates: number;
  maxPersistDepth: number;
  cpu: { percent: Record<string, number | undefined> };
}

/** The knee: --knee, else the highest R that met the target with no loss and nothing refused. */
export function kneeOf(
  flag: number | undefined,
  sweep: ReadonlyArray<{ rate: number; ok: boolean }>,
): { knee: number | undefined; from: string } {
  if (flag !== undefined) return { knee: flag, from: '--knee' };
  const ok = sweep.filter((s) => s.ok).map((s) => s.rate);
  return ok.length > 0
    ? { knee: Math.max(...ok), from: 'the sweep (highest R with p99 < 100 ms, no loss, none refused)' }
    : { knee: undefined, from: 'no R of the sweep met p99 < 100 ms (pass --knee)' };
}

/** Goodput, refusals and acked losses of the overload steps (and of the knee step, for reference). */
export function overloadTable(steps: readonly OverloadStep[], knee: number): string {
  return formatTable(
    [
      'step',
      'R msg/s',
      'sent/s',
      'acked/s',
      'refused/s',
      'goodput/s',
      'acked-lost',
      'acked, late',
      'other errors',
      'p99 ms (delivered)',
      'dup msgs',
      'max persist lag',
    ],
    steps.map((s): Cell[] => [
      s.rate === knee ? 'knee' : `${fmt(s.rate / knee, 1)}× knee`,
      s.rate,
      s.sentPerSec,
      s.shedding.acked / s.durationS,
      s.shedding.refused / s.durationS,
      s.shedding.ackedDelivered / s.durationS,
      s.shedding.ackedLost,
      s.shedding.lateDelivered ?? 0,
      s.shedding.otherErrors,
      s.latency.p99Ms,
      s.messagesWithDuplicates,
      s.maxPersistDepth,
    ]),
  );
}

const CPU_PROCESSES: ReadonlyArray<[string, string]> = [
  ['gw0', 'gw0'],
  ['gw1', 'gw1'],
  ['persister', 'persister'],
  ['standIn', 'stand-in'],
  ['broker', 'broker'],
  ['redis', 'redis'],
];

/** µs of one core per message: (CPU % of one core / 100 × 10⁶ µs/s) / messages per s; undefined when unknown. */
export function usPerMessage(cpuPct: number | undefined, perSec: number): number | undefined {
  return cpuPct === undefined || !(perSec > 0) ? undefined : ((cpuPct / 100) * 1e6) / perSec;
}

/** µs of CPU per delivered message, per process (usPerMessage of each). */
export function cpuPerDeliveredTable(
  steps: ReadonlyArray<{
    label: string;
    deliveredPerSec: number;
    cpu: { percent: Record<string, number | undefined> };
  }>,
): string {
  return formatTable(
    ['step', 'delivered/s', ...CPU_PROCESSES.map(([, title]) => `${title} µs`), 'sum µs'],
    steps.map((s): Cell[] => {
      const per = CPU_PROCESSES.map(([key]) => usPerMessage(s.cpu.percent[key], s.deliveredPerSec));
      const sum = per.reduce<number>((a, b) => a + (b ?? 0), 0);
      return [s.label, s.deliveredPerSec, ...per.map((v) => (v === undefined ? '—' : v)), sum > 0 ? sum : '—'];
    }),
  );
}
