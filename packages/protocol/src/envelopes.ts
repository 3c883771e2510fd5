// AMQP envelopes of docs/protocol.md §3: what services publish to `<prefix>.route.<p>` (dispatches) and
// `<prefix>.persist` (durable writes). The router checks the routing fields (DispatchEnvelope,
// DurableWriteHeader) when publishing and consuming; the persister checks a whole write (DurableWrite)
// before storing it.
import { DISPATCH_EVENTS } from './events.js';
import type { Infer } from './infer.js';
import { MAX_NONCE_LENGTH, MAX_SHORT_STRING } from './limits.js';
import { Author } from './objects.js';
import { Snowflake } from './snowflake.js';

export const PROTOCOL_VERSION = 1;

const Version = { const: PROTOCOL_VERSION } as const;
const NonEmpty = { type: 'string', minLength: 1 } as const;
const Short = { type: 'string', minLength: 1, maxLength: MAX_SHORT_STRING } as const;

/** A delivery: to the local members of `channel_id`, or to the local sockets of the users in `to`. */
export const DispatchEnvelope = {
  type: 'object',
  properties: {
    v: Version,
    type: { const: 'dispatch' },
    event: { enum: DISPATCH_EVENTS },
    channel_id: { type: 'string' },
    to: { type: 'array', items: { type: 'string' } },
    data: {},
  },
  required: ['v', 'type', 'event', 'data'],
  anyOf: [{ required: ['channel_id'] }, { required: ['to'] }],
} as const;
/** A dispatch envelope whose `data` is `D`. */
export type DispatchEnvelope<D = unknown> = Omit<Infer<typeof DispatchEnvelope>, 'data'> & { data: D };

export const DURABLE_WRITE_TYPES = ['message.create', 'message.update', 'message.delete'] as const;
export type DurableWriteType = (typeof DURABLE_WRITE_TYPES)[number];

/** The routing fields of a durable write: enough to publish it to the right place and dead-letter it. */
/** (`allOf` keeps the order of the checks, so a bad `type` is named before a missing `message_id`.) */
export const DurableWriteHeader = {
  type: 'object',
  allOf: [
    {
      properties: {
        v: Version,
        type: { enum: DURABLE_WRITE_TYPES },
        id: Snowflake,
        channel_id: NonEmpty,
        message_id: Snowflake,
      },
      required: ['v', 'type', 'id', 'channel_id'],
    },
    { if: { properties: { type: { const: 'message.create' } } }, else: { required: ['message_id'] } },
  ],
} as const;

export const MessageCreateWrite = {
  type: 'object',
  properties: {
    v: Version,
    type: { const: 'message.create' },
    /** Snowflake of the new message. */
    id: Snowflake,
    channel_id: Short,
    author: { ...Author, properties: { id: Short, username: Short } },
    content: { type: 'string' },
    nonce: { anyOf: [{ type: 'string', minLength: 1, maxLength: MAX_NONCE_LENGTH }, { type: 'null' }] },
    /** ISO 8601. */
    timestamp: { type: 'string' },
  },
  required: ['v', 'type', 'id', 'channel_id', 'author', 'content', 'timestamp'],
} as const;
export type MessageCreateWrite = Infer<typeof MessageCreateWrite>;

export const MessageUpdateWrite = {
  type: 'object',
  properties: {
    v: Version,
    type: { const: 'message.update' },
    /** Event id (snowflake) of this edit. */
    id: Snowflake,
    message_id: Snowflake,
    channel_id: Short,
    author_id: Short,
    content: { type: 'string' },
  },
  required: ['v', 'type', 'id', 'message_id', 'channel_id', 'author_id', 'content'],
} as const;
export type MessageUpdateWrite = Infer<typeof MessageUpdateWrite>;

export const MessageDeleteWrite = {
  type: 'object',
  properties: {
    v: Version,
    type: { const: 'message.delete' },
    /** Event id (snowflake) of this delete. */
    id: Snowflake,
    message_id: Snowflake,
    channel_id: Short,
    author_id: Short,
  },
  required: ['v', 'type', 'id', 'message_id', 'channel_id', 'author_id'],
} as const;
export type MessageDeleteWrite = Infer<typeof MessageDeleteWrite>;

/** A durable write, published to `<prefix>.persist`. */
export type DurableWrite = MessageCreateWrite | MessageUpdateWrite | MessageDeleteWrite;

/** The whole-write schema of each durable write type. */
export const DURABLE_WRITES = {
  'message.create': MessageCreateWrite,
  'message.update': MessageUpdateWrite,
  'message.delete': MessageDeleteWrite,
} as const satisfies Record<DurableWriteType, object>;
