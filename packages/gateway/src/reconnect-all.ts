// Asking every socket of this gateway to reconnect and RESUME (docs/protocol.md §5.2, §5.7): on drain,
// and when the router reports that dispatches for this gateway may have been lost (`dispatch-gap`).

import { frame, Op } from '@chat/protocol';
import type { Session } from './session.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends RECONNECT to every session open now, then after `graceMs` closes those of them still open
 * with `code`. Sessions opened meanwhile are left alone. Resolves once the closes were issued.
 */
export async function reconnectAll(
  sessions: ReadonlySet<Session>,
  graceMs: number,
  code: number,
  reason: string,
): Promise<void> {
  const asked = [...sessions];
  const reconnect = frame(Op.RECONNECT, null);
  for (const session of asked) session.sendRaw(reconnect);
  // Clients that read RECONNECT leave by themselves; close whoever is left after a moment.
  await sleep(graceMs);
  for (const session of asked) if (sessions.has(session)) session.close(code, reason);
}
