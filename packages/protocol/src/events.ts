// DISPATCH events (docs/protocol.md §5.5): their names and payloads. Payloads may carry more fields than
// listed (the schemas leave additional properties open), so a client passes unknown fields through.
import type { Infer } from './infer.js';
import { Channel, Message, PresenceUpdate, User } from './objects.js';
import { AckPayload, ChannelWithReadState } from './read-state.js';
import { Snowflake } from './snowflake.js';

/** Events that travel on the route exchanges between services (AMQP dispatch envelopes). */
export const DISPATCH_EVENTS = [
  'MESSAGE_CREATE',
  'MESSAGE_UPDATE',
  'MESSAGE_DELETE',
  'TYPING_START',
  'CHANNEL_CREATE',
  'CHANNEL_MEMBER_ADD',
  'CHANNEL_MEMBER_REMOVE',
  'PRESENCE_UPDATE',
  'ACK',
] as const;
export type DispatchEvent = (typeof DISPATCH_EVENTS)[number];

/** Events the gateway adds on a socket, never carried between services. */
export const SESSION_EVENTS = ['READY', 'RESUMED'] as const;
export type SessionEvent = (typeof SESSION_EVENTS)[number];

/** Events that may be skipped for a slow socket (ephemeral, at most once). */
export const EPHEMERAL_EVENTS: ReadonlySet<string> = new Set<DispatchEvent>(['TYPING_START', 'PRESENCE_UPDATE']);

const Presences = { type: 'array', items: PresenceUpdate } as const;

export const HelloPayload = {
  type: 'object',
  properties: { heartbeat_interval: { type: 'integer' }, server_id: { type: 'string' } },
  required: ['heartbeat_interval', 'server_id'],
} as const;
export type HelloPayload = Infer<typeof HelloPayload>;

export const ReadyPayload = {
  type: 'object',
  properties: {
    user: User,
    channels: { type: 'array', items: ChannelWithReadState },
    session_id: { type: 'string' },
    presences: Presences,
  },
  required: ['user', 'channels', 'session_id'],
} as const;
export type ReadyPayload = Infer<typeof ReadyPayload>;

export const ResumedPayload = {
  type: 'object',
  properties: { replayed: { type: 'integer' }, truncated: { type: 'boolean' }, presences: Presences },
  required: ['replayed', 'truncated'],
} as const;
export type ResumedPayload = Infer<typeof ResumedPayload>;

export const MessageDeletePayload = {
  type: 'object',
  properties: { id: Snowflake, channel_id: Snowflake },
  required: ['id', 'channel_id'],
} as const;
export type MessageDeletePayload = Infer<typeof MessageDeletePayload>;

export const TypingStartPayload = {
  type: 'object',
  properties: {
    channel_id: Snowflake,
    user_id: Snowflake,
    username: { type: 'string' },
    /** Unix seconds. */
    timestamp: { type: 'integer' },
  },
  required: ['channel_id', 'user_id'],
} as const;
export type TypingStartPayload = Infer<typeof TypingStartPayload>;

export const ChannelCreatePayload = {
  type: 'object',
  properties: { ...Channel.properties, member_ids: { type: 'array', items: Snowflake } },
  required: Channel.required,
} as const;
export type ChannelCreatePayload = Infer<typeof ChannelCreatePayload>;

export const ChannelMemberPayload = {
  type: 'object',
  properties: { channel_id: Snowflake, user_id: Snowflake, channel: Channel },
  required: ['channel_id', 'user_id'],
} as const;
export type ChannelMemberPayload = Infer<typeof ChannelMemberPayload>;

/** The payload schema of each event a socket receives. */
export const EVENT_PAYLOADS = {
  READY: ReadyPayload,
  RESUMED: ResumedPayload,
  MESSAGE_CREATE: Message,
  MESSAGE_UPDATE: Message,
  MESSAGE_DELETE: MessageDeletePayload,
  TYPING_START: TypingStartPayload,
  CHANNEL_CREATE: ChannelCreatePayload,
  CHANNEL_MEMBER_ADD: ChannelMemberPayload,
  CHANNEL_MEMBER_REMOVE: ChannelMemberPayload,
  PRESENCE_UPDATE: PresenceUpdate,
  ACK: AckPayload,
} as const satisfies Record<DispatchEvent | SessionEvent, object>;
