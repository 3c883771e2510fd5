// The rules about what clients saw. docs/protocol.md §5.5 promises at-least-once delivery per socket and
// leaves de-duplication to the client; @chat/client promises to pass each message on once. So: every
// member owed a stored message saw it (via the SDK) exactly once; nobody saw a channel it is not in; a
// RESUME replay is in id order (§5.6); a member's final view of a message is the store's.
import { compareIds } from '@chat/client';
import { type Coverage, coverageOf, owed } from './coverage.js';
import type { HistoryIndex } from './history-index.js';
import type { Violation } from './violation.js';

/** Per honest client: every owed, not deleted, stored message of its channels seen once (create, or a replayed create as update). */
export function checkDelivered(
  ix: HistoryIndex,
  stats: { delivered: number; missing: number; duplicated: number },
): Violation[] {
  const out: Violation[] = [];
  for (const client of ix.history.honest) {
    const cov = coverageOf(ix, client);
    const channels = ix.channelsOf.get(ix.userOf(client)) ?? new Set<string>();
    const creates = new Map<string, number>();
    const seen = new Set<string>();
    for (const v of ix.eventsOf(client, 'view')) {
      if (v.event === 'delete') continue;
      seen.add(v.id);
      if (v.event === 'create') creates.set(v.id, (creates.get(v.id) ?? 0) + 1);
    }
    for (const [id, n] of creates) {
      stats.delivered++;
      if (n > 1) {
        stats.duplicated++;
        out.push({ rule: 'seen-twice', id, client, detail: `the SDK passed MESSAGE_CREATE on ${n} times` });
      }
    }
    for (const m of ix.history.stored) {
      if (m.deleted || !channels.has(m.channel) || !owed(cov, m.id, ix.history.stoppedAt) || seen.has(m.id)) continue;
      stats.missing++;
      out.push({ rule: 'not-delivered', id: m.id, client, detail: `member of ${m.channel}, covered from ${cov.from}` });
    }
  }
  return out;
}

/** Any client (hostile ones included): no dispatch of a channel the user is not a member of. */
export function checkIsolation(ix: HistoryIndex): Violation[] {
  const out: Violation[] = [];
  for (const [client, events] of ix.byClient) {
    const channels = ix.channelsOf.get(ix.userOf(client)) ?? new Set<string>();
    for (const e of events) {
      if ((e.kind === 'dispatch' || e.kind === 'view') && e.channel !== null && !channels.has(e.channel)) {
        out.push({ rule: 'foreign-channel', id: e.id ?? undefined, client, detail: `saw channel ${e.channel}` });
        break;
      }
    }
  }
  return out;
}

/**
 * RESUME replays are in id order per channel (a violation otherwise). Live MESSAGE_CREATEs per channel
 * after each READY/RESUMED are counted when they go backwards (`outOfOrder`): a violation only with
 * `strictLiveOrder` — docs/protocol.md promises order within a replay only.
 */
export function checkOrder(ix: HistoryIndex, strictLiveOrder: boolean, stats: { outOfOrder: number }): Violation[] {
  const out: Violation[] = [];
  for (const [client, events] of ix.byClient) {
    const resumedConns = new Set(
      events.filter((e) => e.kind === 'resumed').map((e) => (e.kind === 'resumed' ? e.conn : -1)),
    );
    const inSession = new Set<number>();
    const lastReplay = new Map<string, string>();
    const lastLive = new Map<string, string>();
    for (const e of events) {
      if (e.kind === 'ready' || e.kind === 'resumed') {
        inSession.add(e.conn);
        lastLive.clear();
      }
      if (e.kind !== 'dispatch' || e.event !== 'MESSAGE_CREATE' || e.id === null || e.channel === null) continue;
      const replay = resumedConns.has(e.conn) && !inSession.has(e.conn);
      const last = replay ? lastReplay : lastLive;
      const key = replay ? `${e.conn} ${e.channel}` : e.channel;
      const prev = last.get(key);
      if (prev !== undefined && compareIds(e.id, prev) < 0) {
        if (replay) out.push({ rule: 'replay-out-of-order', id: e.id, client, detail: `after ${prev} in one replay` });
        else {
          if (ix.history.honest.includes(client)) stats.outOfOrder++;
          if (strictLiveOrder) out.push({ rule: 'live-out-of-order', id: e.id, client, detail: `after ${prev}` });
        }
      }
      if (prev === undefined || compareIds(e.id, prev) > 0) last.set(key, e.id);
    }
  }
  return out;
}

/** Honest clients whose coverage was never truncated: the last view of each message they saw is the store's state. */
export function checkViewsConverge(ix: HistoryIndex): Violation[] {
  const out: Violation[] = [];
  for (const client of ix.history.honest) {
    const cov: Coverage = coverageOf(ix, client);
    if (cov.truncated || !cov.openAtEnd) continue;
    const last = new Map<string, { deleted: boolean; content: string | null }>();
    for (const v of ix.eventsOf(client, 'view')) {
      if (v.at <= ix.history.endedAt) last.set(v.id, { deleted: v.event === 'delete', content: v.content });
    }
    for (const [id, view] of last) {
      const doc = ix.storedById.get(id);
      if (!doc) continue;
      if (doc.deleted !== view.deleted || (!doc.deleted && doc.content !== view.content)) {
        const want = doc.deleted ? 'deleted' : `"${doc.content}"`;
        const got = view.deleted ? 'deleted' : `"${view.content}"`;
        out.push({ rule: 'view-diverged', id, client, detail: `store ${want}, client ${got}` });
      }
    }
  }
  return out;
}
