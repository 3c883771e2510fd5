// Merges the `report` replies of several load-generator processes (ws-loadgen or socketio-loadgen,
// same shape: lib/receipts.ts) into one step's figures: sent, acked / refused / other errors,
// receipts (unique, duplicates, every copy), latency histograms and acked-but-never-received.
import hdr from 'hdr-histogram-js';
import { type Shedding, sheddingOf } from './overload.js';
import { type LatencySummary, latencyHistogram, summarize } from './stats.js';

export interface LoaderReport {
  tag: string;
  sent: number;
  respOk: number;
  respErr: Record<string, number>;
  respHist: string;
  recvHist: string;
  received: Array<[number, Uint8Array]>;
  origin: number;
  acked: Uint8Array;
  copies: number;
  echoes: number;
  perSecond: number[];
  /** First-copy latency by send second (encoded HDR histograms), when the step tracked it. */
  bySendSecond?: string[];
  status: { ready: number; closed: number };
}

export interface MergedStep {
  sent: number;
  /** RESPONSE ok, and RESPONSE errors by code. */
  responsesOk: number;
  responseErrors: Record<string, number>;
  shedding: Shedding;
  /** Messages received by at least one recipient. */
  unique: number;
  /** Messages some recipient received more than once, and the extra copies they got. */
  duplicated: number;
  extraCopies: number;
  /** Copies received by recipients (not the sender), duplicates included. */
  copies: number;
  /** First receipts during the first `windowS` seconds. */
  inWindow: number;
  latency: LatencySummary;
  ackLatency: LatencySummary;
  closedSockets: number;
  /** First-copy latency by the second each message was sent in (empty unless the step tracked it). */
  bySendSecond: LatencySummary[];
}

/** First-copy latency by the second each message was sent in, over every loader (empty: not tracked). */
function latencyBySendSecond(reports: readonly LoaderReport[]): LatencySummary[] {
  const seconds: ReturnType<typeof latencyHistogram>[] = [];
  for (const r of reports) {
    (r.bySendSecond ?? []).forEach((encoded, s) => {
      while (seconds.length <= s) seconds.push(latencyHistogram());
      seconds[s]!.add(hdr.decodeFromCompressedBase64(encoded));
    });
  }
  return seconds.map((h) => summarize(h));
}

export function mergeReports(reports: readonly LoaderReport[], windowS: number): MergedStep {
  // One recipient's loader holds a message's receipts; a group's are spread over all loaders: add up.
  const byOrigin = new Map<number, Uint8Array>();
  for (const r of reports) {
    for (const [origin, bits] of r.received) {
      const acc = byOrigin.get(origin) ?? new Uint8Array(0);
      const sum = acc.length >= bits.length ? acc : new Uint8Array(bits.length);
      if (sum !== acc) sum.set(acc);
      for (let i = 0; i < bits.length; i++) sum[i] = Math.min(255, sum[i]! + bits[i]!);
      byOrigin.set(origin, sum);
    }
  }
  let unique = 0;
  let duplicated = 0;
  let extraCopies = 0;
  for (const bits of byOrigin.values()) {
    for (const n of bits) {
      if (n > 0) unique++;
      if (n > 1) {
        duplicated++;
        extraCopies += n - 1;
      }
    }
  }
  const responseErrors: Record<string, number> = {};
  for (const r of reports) {
    for (const [k, v] of Object.entries(r.respErr)) responseErrors[k] = (responseErrors[k] ?? 0) + v;
  }
  const recv = latencyHistogram();
  const resp = latencyHistogram();
  let inWindow = 0;
  for (const r of reports) {
    recv.add(hdr.decodeFromCompressedBase64(r.recvHist));
    resp.add(hdr.decodeFromCompressedBase64(r.respHist));
    for (let s = 0; s < Math.min(windowS, r.perSecond.length); s++) inWindow += r.perSecond[s]!;
  }
  return {
    sent: reports.reduce((n, r) => n + r.sent, 0),
    responsesOk: reports.reduce((n, r) => n + r.respOk, 0),
    responseErrors,
    shedding: sheddingOf(reports, byOrigin),
    unique,
    duplicated,
    extraCopies,
    copies: reports.reduce((n, r) => n + r.copies, 0),
    inWindow,
    latency: summarize(recv),
    ackLatency: summarize(resp),
    closedSockets: reports.reduce((n, r) => n + r.status.closed, 0),
    bySendSecond: latencyBySendSecond(reports),
  };
}
