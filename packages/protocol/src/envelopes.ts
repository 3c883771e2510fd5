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

const dispatchFields = {
  v: Version,
  type: { const: 'dispatch' },
  event: { enum: DISPATCH_EVENTS },
  channel_id: { type: 'string' },
  to: { type: 'array', items: { type: 'string' } },
  data: {},
  /** A session of the `to` users that does not get it (the one whose action it reports). */
  skip_session: { type: 'string' },
} as const;

/**
 * A delivery: to the local members of `channel_id`, or to the local sockets of the users in `to`.
 * (`allOf` runs first and in order, so a refusal names the first rule broken: version, type, event,
 * audience, then the fields.)
 */
export const DispatchEnvelope = {
  type: 'object',
  properties: dispatchFields,
  required: ['v', 'type', 'event', 'data'],
  allOf: [
    { properties: { v: Version }, required: ['v'] },
    { properties: { type: dispatchFields.type }, required: ['type'] },
    { properties: { event: dispatchFields.event }, required: ['event'] },
    { anyOf: [{ required: ['channel_id'] }, { required: ['to'] }] },
    { properties: { channel_id: dispatchFields.channel_id } },
    { properties: { to: dispatchFields.to } },
    { required: ['data'] },
  ],
} as const;
/** A dispatch envelope whose `data` is `D`. */
export type DispatchEnvelope<D = unknown> = Omit<Infer<typeof DispatchEnvelope>, 'data'> & { data: D };

export const DURABLE_WRITE_TYPES = ['message.create', 'message.update', 'message.delete'] as const;
export type DurableWriteType = (typeof DURABLE_WRITE_TYPES)[number];

/** The routing fields of a durable write: enough to publish it to the right place and dead-letter it. */
/** (`allOf` keeps the order of the checks: version, type, id, channel id, then the message id of an edit or delete.) */
export const DurableWriteHeader = {
  type: 'object',
  allOf: [
    { properties: { v: Version }, required: ['v'] },
    { properties: { type: { enum: DURABLE_WRITE_TYPES } }, required: ['type'] },
    { properties: { id: Snowflake }, required: ['id'] },
    { properties: { channel_id: NonEmpty }, required: ['channel_id'] },
    {
      properties: { message_id: Snowflake },
      if: { properties: { type: { const: 'message.create' } } },
      else: { required: ['message_id'] },
    },
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
    /** The message (of the same channel) this one answers; the persister resolves it (docs/protocol.md §4.1). */
    reply_to: { anyOf: [Snowflake, { type: 'null' }] },
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
