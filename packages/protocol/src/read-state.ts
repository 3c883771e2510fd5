// Read state (docs/protocol.md §4, "Read state"): a channel as its member sees it (unread count, read
// position, newest message), the `read.ack` REQUEST and `POST /channels/{id}/ack` that move the position,
// and the ACK event that tells the user's other sessions.
import type { Infer } from './infer.js';
import { Channel } from './objects.js';
import { Snowflake } from './snowflake.js';

const NullableSnowflake = { anyOf: [Snowflake, { type: 'null' }] } as const;

/** The read state fields of a channel entry in READY and `GET /users/@me/channels`. */
export const ReadStateFields = {
  /** Messages stored after the member's read position (deleted ones included until it moves past them). */
  unread_count: { type: 'integer', minimum: 0 },
  /** The newest message the member has read (acked, or sent), or null. */
  last_read_id: NullableSnowflake,
  /** The newest message stored in the channel (perhaps deleted since), or null: ack it to read everything. */
  last_message_id: NullableSnowflake,
} as const;

export const ChannelWithReadState = {
  type: 'object',
  properties: { ...Channel.properties, ...ReadStateFields },
  required: [...Channel.required, 'unread_count', 'last_read_id', 'last_message_id'],
} as const;
/** A channel with the caller's read state. */
export type ChannelWithReadState = Infer<typeof ChannelWithReadState>;

export const ReadAckParams = {
  type: 'object',
  properties: { channel_id: Snowflake, message_id: Snowflake },
  required: ['channel_id', 'message_id'],
  additionalProperties: false,
} as const;
/** Params of the `read.ack` REQUEST. */
export type ReadAckParams = Infer<typeof ReadAckParams>;

export const AckBody = {
  type: 'object',
  properties: { message_id: Snowflake },
  required: ['message_id'],
  additionalProperties: false,
} as const;
/** Body of `POST /api/channels/{id}/ack`. */
export type AckBody = Infer<typeof AckBody>;

export const AckPayload = {
  type: 'object',
  properties: {
    channel_id: Snowflake,
    /** The read position after the ack: the acked message, or a newer one already read. */
    message_id: Snowflake,
    unread_count: { type: 'integer', minimum: 0 },
  },
  required: ['channel_id', 'message_id', 'unread_count'],
} as const;
/** The ACK event's payload, and the result of `read.ack` and of the HTTP ack. */
export type AckPayload = Infer<typeof AckPayload>;
