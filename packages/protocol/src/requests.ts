// REQUEST (op 20) methods of docs/protocol.md §5.6: each method's params and result. Params are exact:
// an unknown field is refused (`unknown_field`); an optional field may be null, meaning absent.
import type { Infer } from './infer.js';
import { Message } from './objects.js';
import { AckPayload, ReadAckParams } from './read-state.js';
import { SearchParams } from './search.js';
import { Snowflake } from './snowflake.js';

const Str = { type: 'string' } as const;
const Null = { type: 'null' } as const;
const optional = <const S extends object>(s: S) => ({ anyOf: [s, Null] }) as const;

export const MessageCreateParams = {
  type: 'object',
  properties: {
    channel_id: Snowflake,
    content: Str,
    nonce: optional(Str),
    /** A message of the same channel this one answers (docs/protocol.md §4.1). */
    reply_to: optional(Snowflake),
  },
  required: ['channel_id', 'content'],
  additionalProperties: false,
} as const;

export const MessageUpdateParams = {
  type: 'object',
  properties: { channel_id: Snowflake, message_id: Snowflake, content: Str },
  required: ['channel_id', 'message_id', 'content'],
  additionalProperties: false,
} as const;

export const MessageDeleteParams = {
  type: 'object',
  properties: { channel_id: Snowflake, message_id: Snowflake },
  required: ['channel_id', 'message_id'],
  additionalProperties: false,
} as const;

export const TypingStartParams = {
  type: 'object',
  properties: { channel_id: Snowflake },
  required: ['channel_id'],
  additionalProperties: false,
} as const;

export const HistoryGetParams = {
  type: 'object',
  properties: {
    channel_id: Snowflake,
    before: optional(Snowflake),
    after: optional(Snowflake),
    /** 1..100, default 50 (limits.ts HISTORY_LIMIT; the range is the service's check). */
    limit: optional({ type: 'integer' }),
  },
  required: ['channel_id'],
  additionalProperties: false,
} as const;

const MessageList = { type: 'array', items: Message } as const;

/** Every REQUEST method: its params schema and its result schema. */
export const REQUEST_METHODS = {
  'message.create': { params: MessageCreateParams, result: Message },
  'message.update': { params: MessageUpdateParams, result: Message },
  'message.delete': { params: MessageDeleteParams, result: Null },
  'typing.start': { params: TypingStartParams, result: Null },
  'history.get': { params: HistoryGetParams, result: MessageList },
  'message.search': { params: SearchParams, result: MessageList },
  'read.ack': { params: ReadAckParams, result: AckPayload },
} as const;
export type RequestMethod = keyof typeof REQUEST_METHODS;
export type RequestParams<M extends RequestMethod> = Infer<(typeof REQUEST_METHODS)[M]['params']>;
export type RequestResult<M extends RequestMethod> = Infer<(typeof REQUEST_METHODS)[M]['result']>;
