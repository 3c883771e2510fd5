// When a client was owed every message of its channels: from its first READY (or the last RESUMED that
// said `truncated`, after which the protocol asks the client to page history) until the end of the
// run or the moment its session ended for good. READY means "attached now", so a message whose id
// was issued later was stored after the attach and must arrive (docs/protocol.md §5.6, design.md §4).
import { timestampOfId } from '@chat/client';
import type { HistoryIndex } from './history-index.js';
import type { Violation } from './violation.js';

export interface Coverage {
  client: string;
  /** null: the client never reached READY. */
  from: number | null;
  to: number;
  /** The client is connected (state `open`) at the end of the run. */
  openAtEnd: boolean;
  /** A truncated RESUMED happened: the client's view is not required to converge. */
  truncated: boolean;
}

export function coverageOf(ix: HistoryIndex, client: string): Coverage {
  const h = ix.history;
  let from: number | null = null;
  let to = h.endedAt;
  let truncated = false;
  let state = 'closed';
  for (const e of ix.byClient.get(client) ?? []) {
    if (e.at > h.endedAt) break;
    if (e.kind === 'ready' && from === null) from = e.at;
    if (e.kind === 'resumed' && e.truncated) {
      from = e.at;
      truncated = true;
    }
    if (e.kind === 'state') {
      state = e.state;
      if (e.state === 'closed' && from !== null) to = Math.min(to, e.at);
    }
  }
  return { client, from, to, openAtEnd: state === 'open', truncated };
}

/** Whether the client was owed message `id` (issued while it was covered, before the workload stopped). */
export function owed(c: Coverage, id: string, stoppedAt: number): boolean {
  const t = timestampOfId(id);
  return c.from !== null && t >= c.from && t <= c.to && t <= stoppedAt;
}

/** Honest clients that never connected, or were not connected at the end of the run. */
export function checkSessions(ix: HistoryIndex): Violation[] {
  const out: Violation[] = [];
  for (const client of ix.history.honest) {
    const c = coverageOf(ix, client);
    if (c.from === null) out.push({ rule: 'never-ready', client, detail: 'no READY during the run' });
    else if (!c.openAtEnd) out.push({ rule: 'not-reconnected', client, detail: 'not connected at the end of the run' });
  }
  return out;
}
