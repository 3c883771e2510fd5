// Time to recover after each fault, measured from its `recoverFrom` (its start for losses such as
// SIGKILL, its end for outages): the first acked send after it, and the first delivery through every gateway that was
// delivering when it began — delivered within DELIVERING_WINDOW_MS before its start — but the fault's own target. (A
// gateway whose clients all left earlier, after an earlier fault, is not waited for: it has nothing to deliver until
// some reconnect there.) The goals: < 5 s after gateway and persister faults, < 15 s after a broker-node loss.
import type { FaultRecord, History } from './history.js';

export interface Recovery {
  fault: FaultRecord;
  /** ms from recoverFrom to the first ack after it; null: none before the run ended. */
  firstAckMs: number | null;
  /** ms from recoverFrom until every gateway that delivered before the fault delivered again; null: one never did. */
  allGatewaysDeliverMs: number | null;
  /** The goal for this component, in ms (null: none stated). */
  goalMs: number | null;
}

const GOALS: Record<string, number> = { gateway: 5_000, persister: 5_000, broker: 15_000 };

/** A gateway that delivered within this long before a fault's start was delivering when it began. */
export const DELIVERING_WINDOW_MS = 5_000;

export function recoveries(h: History): Recovery[] {
  const events = [...h.events].sort((a, b) => a.at - b.at);
  return h.faults.map((fault) => {
    const from = fault.recoverFrom;
    const ack = events.find((e) => e.kind === 'ack' && e.at > from);
    const before = new Set<string>();
    const after = new Map<string, number>();
    for (const e of events) {
      // A killed gateway's clients moved to the others and stay there: it is not waited for.
      if (e.kind !== 'dispatch' || e.gateway === null || e.gateway === fault.target) continue;
      if (e.at < fault.start) {
        if (e.at >= fault.start - DELIVERING_WINDOW_MS) before.add(e.gateway);
      } else if (e.at > from && !after.has(e.gateway)) after.set(e.gateway, e.at);
    }
    let all: number | null = from;
    for (const gw of before) {
      const t = after.get(gw);
      all = t === undefined || all === null ? null : Math.max(all, t);
    }
    return {
      fault,
      firstAckMs: ack ? ack.at - from : null,
      allGatewaysDeliverMs: all === null ? null : all - from,
      goalMs: GOALS[fault.component] ?? null,
    };
  });
}
