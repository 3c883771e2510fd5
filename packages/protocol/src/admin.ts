// The operator's view (docs/protocol.md §6.3): what the admin routes of the HTTP API answer. Only users
// named in the gateway's ADMIN_USERS may call them (others: 403 forbidden); nothing here is writable by
// the chat API. Every list is bounded and says when it was cut.
import type { Infer } from './infer.js';

const Str = { type: 'string' } as const;
const Count = { type: 'integer', minimum: 0 } as const;
const Rate = { type: 'number', minimum: 0 } as const;

/** Most dead letters one listing returns (`limit` 1..100, default 20). */
export const MAX_DEAD_LETTER_LISTING = 100;
/** Most bound routing keys listed per gateway (the count is always exact). */
export const MAX_LISTED_BOUND_KEYS = 200;
/** Most queues one listing returns. */
export const MAX_LISTED_QUEUES = 500;
/** A dead letter's handle: 16 lower-case hex digits (a digest of its body). */
export const DEAD_LETTER_ID_PATTERN = '^[0-9a-f]{16}$';

export const AdminGateway = {
  type: 'object',
  properties: {
    server_id: Str,
    /** Whether the gateway reported itself within the presence timeout (false: only its queue was seen). */
    live: { type: 'boolean' },
    /** Open sockets (identified or not) at its last report; null when it has not reported. */
    connections: { anyOf: [Count, { type: 'null' }] },
    /** Distinct users with a socket on it at its last report; null when it has not reported. */
    users: { anyOf: [Count, { type: 'null' }] },
    /** When it last reported (ISO 8601), null when it has not. */
    reported_at: { anyOf: [Str, { type: 'null' }] },
    /** Its queue (`<prefix>.gw.<server_id>`) and that queue's consumers and ready messages; null: no queue. */
    queue: { anyOf: [Str, { type: 'null' }] },
    consumers: Count,
    messages: Count,
    /** Routing keys bound to its queue (slot or user keys), sorted, at most MAX_LISTED_BOUND_KEYS. */
    bound_keys: { type: 'array', items: Str },
    bound_key_count: Count,
  },
  required: [
    'server_id',
    'live',
    'connections',
    'users',
    'reported_at',
    'queue',
    'consumers',
    'messages',
    'bound_keys',
    'bound_key_count',
  ],
} as const;
/** One gateway in `GET /api/admin/gateways`. */
export type AdminGateway = Infer<typeof AdminGateway>;

export const AdminQueue = {
  type: 'object',
  properties: {
    name: Str,
    /** classic, quorum or stream. */
    type: Str,
    messages: Count,
    messages_ready: Count,
    messages_unacknowledged: Count,
    consumers: Count,
    /** Messages per second, as the management API averages them (0 when it has no sample yet). */
    publish_rate: Rate,
    deliver_rate: Rate,
  },
  required: [
    'name',
    'type',
    'messages',
    'messages_ready',
    'messages_unacknowledged',
    'consumers',
    'publish_rate',
    'deliver_rate',
  ],
} as const;
/** One queue in `GET /api/admin/queues`. */
export type AdminQueue = Infer<typeof AdminQueue>;

export const AdminQueues = {
  type: 'object',
  properties: {
    queues: { type: 'array', items: AdminQueue },
    /** More queues of the prefix exist than MAX_LISTED_QUEUES. */
    truncated: { type: 'boolean' },
  },
  required: ['queues', 'truncated'],
} as const;
/** Result of `GET /api/admin/queues`. */
export type AdminQueues = Infer<typeof AdminQueues>;

export const DeadLetter = {
  type: 'object',
  properties: {
    /** The handle to requeue or discard it by (DEAD_LETTER_ID_PATTERN). */
    id: { type: 'string', pattern: DEAD_LETTER_ID_PATTERN },
    /** Why it was dead-lettered: the router's or persister's reason, or the broker's (e.g. `delivery_limit`). */
    reason: Str,
    /** The write's type and id (AMQP `type`, `message_id`), null when it had none (e.g. invalid JSON). */
    type: { anyOf: [Str, { type: 'null' }] },
    message_id: { anyOf: [Str, { type: 'null' }] },
    /** The AMQP user that published it, when known. */
    writer: { anyOf: [Str, { type: 'null' }] },
    /** The body as text, cut to 1,000 characters. */
    body: Str,
    body_bytes: Count,
  },
  required: ['id', 'reason', 'type', 'message_id', 'writer', 'body', 'body_bytes'],
} as const;
/** One message of the dead-letter queue. */
export type DeadLetter = Infer<typeof DeadLetter>;

export const DeadLetters = {
  type: 'object',
  properties: {
    /** The first `limit` dead letters, oldest first. */
    dead_letters: { type: 'array', items: DeadLetter },
    /** Messages in the dead-letter queue (ready, as the broker counts them). */
    total: Count,
  },
  required: ['dead_letters', 'total'],
} as const;
/** Result of `GET /api/admin/dead-letters`. */
export type DeadLetters = Infer<typeof DeadLetters>;

/** The query of `GET /api/admin/dead-letters` (documentation: the gateway checks `limit`). */
export const DeadLettersQuery = {
  type: 'object',
  properties: { limit: { type: 'integer', minimum: 1, maximum: MAX_DEAD_LETTER_LISTING, default: 20 } },
} as const;

/** Result bodies of the admin routes, by route name. */
export const ADMIN_HTTP_RESULTS = {
  admin_gateways: { type: 'array', items: AdminGateway },
  admin_queues: AdminQueues,
  admin_dead_letters: DeadLetters,
  admin_requeue: DeadLetter,
  admin_discard: DeadLetter,
} as const;
