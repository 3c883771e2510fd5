// The operator's view's tables, one definition for the CLI and the page: column names and each row's
// cells (numbers, text, null for "none"); each caller adds its own last column where they differ.
import type { AdminGateway, AdminQueue, DeadLetter } from '@chat/protocol';

export type Cell = string | number | null;

/** Gateway columns; the callers add "bound keys". */
export const GATEWAY_COLUMNS = ['server', 'live', 'connections', 'users', 'queue', 'consumers', 'backlog'];

export function gatewayCells(g: AdminGateway): Cell[] {
  return [g.server_id, g.live ? 'yes' : 'no', g.connections, g.users, g.queue, g.consumers, g.messages];
}

export const QUEUE_COLUMNS = ['queue', 'type', 'messages', 'ready', 'unacked', 'consumers', 'publish/s', 'deliver/s'];

export function queueCells(q: AdminQueue): Cell[] {
  return [
    q.name,
    q.type,
    q.messages,
    q.messages_ready,
    q.messages_unacknowledged,
    q.consumers,
    q.publish_rate.toFixed(1),
    q.deliver_rate.toFixed(1),
  ];
}

/** Dead-letter columns; the callers add the body or the size, and the page its buttons. */
export const DEAD_LETTER_COLUMNS = ['id', 'reason', 'type', 'message id', 'writer'];

export function deadLetterCells(l: DeadLetter): Cell[] {
  return [l.id, l.reason, l.type, l.message_id, l.writer];
}
