// What a load-generator process records about one tagged step, whatever protocol its clients speak
// (ws-loadgen: the gateway protocol; socketio-loadgen: Socket.IO): every send's time, which requests
// were acked or refused, and every receipt of a message, identified by the message's content
// `<tag>|<lg>|<seq>|<sentAt>|<user>|xxx…` (≈ 100 bytes). Receipts are counted per (origin loader, seq)
// up to 255 copies; latency is recorded at the first copy a loader sees (W1: one recipient per DM), or
// at every copy when the step tracks `everyCopy` (W2: the latency to every member of a group).
// The report is what the parents (w1, w3, peers) merge; its shape is the loaders' IPC contract.
import hdr from 'hdr-histogram-js';
import { epochMs, type LatencyHistogram, latencyHistogram, recordMs } from './stats.js';

export interface Tracking {
  tag: string;
  t0: number;
  /** Record latency at every copy received (group fan-out), not only at the first. */
  everyCopy: boolean;
  sent: number;
  respOk: number;
  respErr: Record<string, number>;
  respHist: LatencyHistogram;
  recvHist: LatencyHistogram;
  /** origin load generator → receipts per seq (capped at 255). */
  received: Map<number, Uint8Array>;
  /** Copies received by clients other than the sender, duplicates included. */
  copies: number;
  echoes: number;
  perSecond: number[];
  sentAt: Float64Array;
  /** 1 when the request of that sequence number was acked (RESPONSE ok). */
  acked: Uint8Array;
  /** This loader's index as a sender (the `lg` of run / closedLoop), -1 before it sent. */
  origin: number;
  /**
   * When tracked: first-copy latency by the second (since t0) the message was SENT in, so that a
   * change of rate within a step (w1's recovery after overload) shows when latency came back.
   */
  bySendSecond: LatencyHistogram[] | undefined;
}

export function newTracking(tag: string, t0: number, everyCopy = false, bySendSecond = false): Tracking {
  return {
    tag,
    t0,
    everyCopy,
    sent: 0,
    respOk: 0,
    respErr: {},
    respHist: latencyHistogram(),
    recvHist: latencyHistogram(),
    received: new Map(),
    copies: 0,
    echoes: 0,
    perSecond: [],
    sentAt: new Float64Array(1 << 16),
    acked: new Uint8Array(1 << 16),
    origin: -1,
    bySendSecond: bySendSecond ? [] : undefined,
  };
}

export function contentOf(tag: string, lg: number, seq: number, user: number, sentAt: number): string {
  return `${tag}|${lg}|${seq}|${sentAt.toFixed(2)}|${user}|`.padEnd(100, 'x');
}

/** Takes the next sequence number for a send by loader `lg` now; returns it and the send time. */
export function beginSend(t: Tracking, lg: number): { seq: number; now: number } {
  const seq = t.sent++;
  if (seq >= t.sentAt.length) {
    const grown = new Float64Array(t.sentAt.length * 2);
    grown.set(t.sentAt);
    t.sentAt = grown;
    const acked = new Uint8Array(grown.length);
    acked.set(t.acked);
    t.acked = acked;
  }
  t.origin = lg;
  const now = epochMs();
  t.sentAt[seq] = now;
  return { seq, now };
}

/** An answer to request `seq`: acked, or refused with `code` (`overloaded` = shed, nothing stored). */
export function recordResponse(t: Tracking, seq: number, ok: boolean, code: string | undefined): void {
  if (ok) {
    t.respOk++;
    if (seq >= 0 && seq < t.sent) {
      recordMs(t.respHist, epochMs() - t.sentAt[seq]!);
      t.acked[seq] = 1;
    }
  } else {
    t.respErr[code ?? 'unknown'] = (t.respErr[code ?? 'unknown'] ?? 0) + 1;
  }
}

export type Receipt =
  | { kind: 'foreign' }
  | { kind: 'echo'; lg: number; seq: number }
  | { kind: 'copy'; lg: number; seq: number };

/** A message with `content` reached the client of user number `user`: count it (an echo is the sender's own copy). */
export function recordReceipt(t: Tracking, content: string, user: number): Receipt {
  if (!content.startsWith(`${t.tag}|`)) return { kind: 'foreign' };
  const [, lgText, seqText, sentText, userText] = content.split('|', 5);
  const origin = Number(lgText);
  const seq = Number(seqText);
  if (Number(userText) === user) {
    t.echoes++;
    return { kind: 'echo', lg: origin, seq };
  }
  const now = epochMs();
  let bits = t.received.get(origin);
  if (!bits || seq >= bits.length) {
    const grown = new Uint8Array(Math.max(1 << 16, 2 ** Math.ceil(Math.log2(seq + 1))));
    if (bits) grown.set(bits);
    bits = grown;
    t.received.set(origin, bits);
  }
  if (bits[seq]! < 255) bits[seq]! += 1;
  t.copies++;
  if (bits[seq] === 1 || t.everyCopy) recordMs(t.recvHist, now - Number(sentText));
  if (bits[seq] === 1 && t.bySendSecond) {
    const sent = Math.floor((Number(sentText) - t.t0) / 1000);
    if (sent >= 0 && sent < 3600) {
      while (t.bySendSecond.length <= sent) t.bySendSecond.push(latencyHistogram());
      recordMs(t.bySendSecond[sent]!, now - Number(sentText));
    }
  }
  if (bits[seq] === 1) {
    const second = Math.floor((now - t.t0) / 1000);
    if (second >= 0 && second < 3600) {
      while (t.perSecond.length <= second) t.perSecond.push(0);
      t.perSecond[second]! += 1;
    }
  }
  return { kind: 'copy', lg: origin, seq };
}

/** Requests of the tracked step sent and answered so far. */
export function progressOf(t: Tracking | undefined): { sent: number; answered: number } {
  if (!t) return { sent: 0, answered: 0 };
  return { sent: t.sent, answered: t.respOk + Object.values(t.respErr).reduce((a, b) => a + b, 0) };
}

/** The `report` reply: everything the parent merges across loaders. */
export function reportOf(t: Tracking, status: unknown) {
  return {
    tag: t.tag,
    sent: t.sent,
    respOk: t.respOk,
    respErr: t.respErr,
    respHist: hdr.encodeIntoCompressedBase64(t.respHist),
    recvHist: hdr.encodeIntoCompressedBase64(t.recvHist),
    received: [...t.received.entries()],
    origin: t.origin,
    acked: t.acked.slice(0, t.sent),
    copies: t.copies,
    echoes: t.echoes,
    perSecond: t.perSecond,
    bySendSecond: t.bySendSecond?.map((h) => hdr.encodeIntoCompressedBase64(h)) ?? [],
    status,
  };
}

/**
 * Open loop: `total` sends over `durationMs` at an even pace, ticking every 5 ms. `send()` sends one
 * message (or counts one as sent and lost when the chosen client is gone: never bunch the rest).
 */
export function paced(
  t: Tracking,
  rate: number,
  durationMs: number,
  send: () => void,
): Promise<{ sent: number; ms: number; maxBehind: number }> {
  const started = performance.now();
  // The step may have sent before (an earlier phase at another rate): pace this call's sends only.
  const before = t.sent;
  const total = Math.round((rate * durationMs) / 1000);
  let maxBehind = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - started;
      const due = Math.min(total, Math.floor((elapsed * rate) / 1000));
      maxBehind = Math.max(maxBehind, due - (t.sent - before));
      while (t.sent - before < due) send();
      if (t.sent - before >= total) {
        clearInterval(timer);
        resolve({ sent: t.sent, ms: performance.now() - started, maxBehind });
      }
    };
    const timer = setInterval(tick, 5);
  });
}
