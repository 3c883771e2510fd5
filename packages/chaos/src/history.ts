// The history of a run: everything every client did and saw, with timestamps (ms since the epoch),
// plus the faults the nemesis injected. The checker judges a run from this and the store alone.

/** One client-side fact. `client` is the recorder's name, `gateway` the server_id of the HELLO in force. */
export type ClientEvent =
  /** A message.create attempt (one per `send()` call; a retry with the same nonce is a new attempt). */
  | { kind: 'send'; at: number; client: string; channel: string; nonce: string; content: string }
  /** The server answered the attempt with the stored message. */
  | { kind: 'ack'; at: number; client: string; channel: string; nonce: string; id: string; gateway: string | null }
  /** The server said no (`code`): `overloaded` means not stored; `unavailable` means it may be. */
  | { kind: 'refused'; at: number; client: string; channel: string; nonce: string; code: string }
  /** No answer (timeout, connection lost, client closed): the write may or may not be stored. */
  | { kind: 'unknown'; at: number; client: string; channel: string; nonce: string; error: string }
  /** An edit or delete attempt and its outcome (`ok` acked, `refused`, `unknown`). */
  | {
      kind: 'edit' | 'delete';
      at: number;
      client: string;
      channel: string;
      id: string;
      content: string | null;
      outcome: 'ok' | 'refused' | 'unknown';
    }
  /** A raw DISPATCH as it came off the socket (duplicates included), `conn` counts this client's sockets. */
  | {
      kind: 'dispatch';
      at: number;
      client: string;
      conn: number;
      gateway: string | null;
      event: string;
      channel: string | null;
      id: string | null;
      content: string | null;
    }
  /** What the SDK passed on after de-duplication: the client's view of a message. */
  | {
      kind: 'view';
      at: number;
      client: string;
      event: 'create' | 'update' | 'delete';
      channel: string;
      id: string;
      content: string | null;
    }
  /** Session milestones: READY (after IDENTIFY) or RESUMED (with `truncated`). */
  | { kind: 'ready'; at: number; client: string; conn: number; gateway: string | null }
  | { kind: 'resumed'; at: number; client: string; conn: number; gateway: string | null; truncated: boolean }
  /** A state change of the SDK (`open`, `reconnecting`, `closed`) with the close code that caused it. */
  | { kind: 'state'; at: number; client: string; state: string; code: number | null };

/**
 * A fault the nemesis injected: `start` when it began, `end` when it was healed (a killed process
 * restarted, a cut restored). Recovery is measured from `recoverFrom`: the start for losses (a kill,
 * a stop: the system must route around them), the end for outages it can only wait out.
 */
export interface FaultRecord {
  name: string;
  target: string;
  start: number;
  end: number;
  recoverFrom: number;
  /** `gateway`, `persister`, `broker`, `mongo`, `redis`: which recovery goal applies. */
  component: string;
}

/** A gateway or persister that exited without the nemesis asking (and was restarted): when, how, its last log lines. */
export interface UnaskedExit {
  service: string;
  at: number;
  exit: number | string;
  lastLines: string[];
}

/** A stored message as the checker needs it (read from MongoDB at the end of the run). */
export interface StoredMessage {
  id: string;
  channel: string;
  author: string;
  nonce: string | null;
  content: string;
  deleted: boolean;
}

/** A run: who is in which channel, what happened, what was stored, and what the processes logged. */
export interface History {
  /** client name → user id; channel id → member user ids (membership is fixed during a run). */
  users: Record<string, string>;
  members: Record<string, string[]>;
  /** Clients that are honest: the checker's delivery rules apply to them only. */
  honest: string[];
  events: ClientEvent[];
  faults: FaultRecord[];
  /** Processes that exited on their own during the run (restarted by the harness, as compose would). */
  exits: UnaskedExit[];
  stored: StoredMessage[];
  /** When the workload stopped sending, and when the run stopped watching (after the quiet period). */
  stoppedAt: number;
  endedAt: number;
}
