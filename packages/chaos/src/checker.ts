// The checker: every rule of issue #13 over a run's history and the store's final contents. Pure: it
// reads nothing but the History it is given, so it is unit-tested on hand-written histories.
import { checkSessions } from './coverage.js';
import type { History } from './history.js';
import { HistoryIndex } from './history-index.js';
import { type Recovery, recoveries } from './recovery.js';
import { checkDelivered, checkIsolation, checkOrder, checkViewsConverge } from './rules-delivery.js';
import { checkChangesConverge, checkStoredOnce } from './rules-writes.js';
import { storyOf } from './story.js';
import type { Violation } from './violation.js';

export interface CheckOptions {
  /** Live MESSAGE_CREATEs of a channel going backwards in id order count as violations. Default false. */
  strictLiveOrder?: boolean;
}

/** Client-side figures are the honest clients'; `stored` is everything stored. */
export interface CheckStats {
  faults: number;
  sent: number;
  acked: number;
  refused: number;
  unknown: number;
  stored: number;
  /** (client, message) pairs the SDK passed on. */
  delivered: number;
  /** Raw MESSAGE_CREATE copies beyond the first, per (client, message): what the SDK de-duplicated. */
  wireDuplicates: number;
  missing: number;
  duplicated: number;
  outOfOrder: number;
}

export interface CheckResult {
  ok: boolean;
  violations: Violation[];
  stats: CheckStats;
  recoveries: Recovery[];
  /** The whole story of the first violation, or null. */
  firstStory: string | null;
}

export function check(history: History, options: CheckOptions = {}): CheckResult {
  const ix = new HistoryIndex(history);
  const honest = new Set(history.honest);
  const honestEvents = history.events.filter((e) => honest.has(e.client));
  const count = (kind: string) => honestEvents.filter((e) => e.kind === kind).length;
  const copies = new Map<string, number>();
  for (const e of honestEvents) {
    if (e.kind === 'dispatch' && e.event === 'MESSAGE_CREATE') {
      const k = `${e.client} ${e.id}`;
      copies.set(k, (copies.get(k) ?? 0) + 1);
    }
  }
  const stats: CheckStats = {
    faults: history.faults.length,
    sent: count('send'),
    acked: count('ack'),
    refused: count('refused'),
    unknown: count('unknown'),
    stored: history.stored.length,
    delivered: 0,
    wireDuplicates: [...copies.values()].reduce((s, n) => s + n - 1, 0),
    missing: 0,
    duplicated: 0,
    outOfOrder: 0,
  };
  const violations = [
    ...checkStoredOnce(ix),
    ...checkChangesConverge(ix),
    ...checkSessions(ix),
    ...checkDelivered(ix, stats),
    ...checkIsolation(ix),
    ...checkOrder(ix, options.strictLiveOrder ?? false, stats),
    ...checkViewsConverge(ix),
  ];
  const runStart = history.events.reduce((min, e) => Math.min(min, e.at), history.endedAt);
  return {
    ok: violations.length === 0,
    violations,
    stats,
    recoveries: recoveries(history),
    firstStory: violations[0] ? storyOf(ix, violations[0], runStart) : null,
  };
}
