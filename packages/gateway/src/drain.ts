// The SIGTERM drain of a gateway (docs/operations.md): stop accepting, RECONNECT every client, close
// whoever is left, say offline for the users who left, then let the router unbind and delete this
// gateway's queue. Guarantees: bounded by `timeoutMs` (past it the router is closed anyway); every
// socket still open after a short grace is closed 1001 GOING_AWAY; presence leaves before the queue goes.

import { CloseCode } from '@chat/protocol';
import type { Router } from '@chat/router';
import type { Presence } from './presence.js';
import { reconnectAll } from './reconnect-all.js';
import type { Session } from './session.js';

export interface DrainParts {
  /** Stops accepting sockets and API requests (new ones get 503). */
  stopAccepting(): void;
  sessions: ReadonlySet<Session>;
  /** Stops the periodic session sweep once the sockets are gone. */
  stopSweep(): void;
  presence: Presence;
  router: Router;
  timeoutMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function drainGateway(p: DrainParts): Promise<void> {
  p.stopAccepting();
  const deadline = Date.now() + p.timeoutMs;
  await reconnectAll(p.sessions, Math.min(1000, p.timeoutMs / 4), CloseCode.GOING_AWAY, 'server draining');
  while (p.sessions.size > 0 && Date.now() < deadline) await sleep(20);
  p.stopSweep();
  // Offline for the users who left and are nowhere else, then this gateway leaves the registry.
  await p.presence.stop(deadline);
  await Promise.race([p.router.drain(), sleep(Math.max(0, deadline - Date.now()))]);
  await p.router.close();
}
