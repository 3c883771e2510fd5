// HTTP API bodies of docs/protocol.md §6: each route's request body (exact: unknown fields are refused)
// and response body. Path ids that are not snowflakes name nothing (404), so ids inside bodies that the
// API resolves to a user (`user_id`, `recipients`) are plain strings here and answered 404 by the service.
import type { Infer } from './infer.js';
import { Channel, Message, User } from './objects.js';
import { AckPayload, ChannelWithReadState } from './read-state.js';
import { Snowflake } from './snowflake.js';

const Str = { type: 'string' } as const;
const optional = <const S extends object>(s: S) => ({ anyOf: [s, { type: 'null' }] }) as const;

export const Credentials = {
  type: 'object',
  properties: { username: Str, password: Str },
  required: ['username', 'password'],
  additionalProperties: false,
} as const;
/** Body of `POST /api/users` (register) and `POST /api/sessions` (login). */
export type Credentials = Infer<typeof Credentials>;

export const LoginResult = {
  type: 'object',
  properties: { token: Str, user: User },
  required: ['token', 'user'],
} as const;
/** Result of `POST /api/sessions`. */
export type LoginResult = Infer<typeof LoginResult>;

export const CreateChannelBody = {
  type: 'object',
  properties: {
    /** `dm` or `group`; other values are refused by the service (invalid_request). */
    kind: Str,
    name: optional(Str),
    recipients: optional({ type: 'array', items: Str }),
    /** Groups: who may add members, `owner` (default) or `members`. */
    invite: optional(Str),
  },
  required: ['kind'],
  additionalProperties: false,
} as const;
/** Body of `POST /api/channels`. */
export type CreateChannelBody = Infer<typeof CreateChannelBody>;

export const AddMemberBody = {
  type: 'object',
  properties: { user_id: Str },
  required: ['user_id'],
  additionalProperties: false,
} as const;
/** Body of `POST /api/channels/{id}/members`. */
export type AddMemberBody = Infer<typeof AddMemberBody>;

export const SendMessageBody = {
  type: 'object',
  properties: {
    content: Str,
    nonce: optional(Str),
    /** A message of the same channel this one answers (docs/protocol.md §4.1). */
    reply_to: optional(Snowflake),
  },
  required: ['content'],
  additionalProperties: false,
} as const;
/** Body of `POST /api/channels/{id}/messages`. */
export type SendMessageBody = Infer<typeof SendMessageBody>;

export const EditMessageBody = {
  type: 'object',
  properties: { content: Str },
  required: ['content'],
  additionalProperties: false,
} as const;
/** Body of `PATCH /api/channels/{id}/messages/{message_id}`. */
export type EditMessageBody = Infer<typeof EditMessageBody>;

/** Response bodies by route name (routes without a body answer 204). */
export const HTTP_RESULTS = {
  register: User,
  login: LoginResult,
  me: User,
  my_channels: { type: 'array', items: ChannelWithReadState },
  create_channel: Channel,
  history: { type: 'array', items: Message },
  send: Message,
  edit: Message,
  search: { type: 'array', items: Message },
  replies: { type: 'array', items: Message },
  ack: AckPayload,
} as const;
