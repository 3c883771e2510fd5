// The objects of docs/protocol.md §4 as schemas: users, authors, messages, channels, presence. Ids are
// snowflakes (decimal strings); times are ISO 8601 strings.
import type { Infer } from './infer.js';
import { Snowflake } from './snowflake.js';

const Str = { type: 'string' } as const;
const NullableStr = { anyOf: [Str, { type: 'null' }] } as const;

export const Author = {
  type: 'object',
  properties: { id: Str, username: Str },
  required: ['id', 'username'],
} as const;
export type Author = Infer<typeof Author>;

export const User = {
  type: 'object',
  properties: { id: Snowflake, username: Str, created_at: Str },
  required: ['id', 'username'],
} as const;
export type User = Infer<typeof User>;

/**
 * What a reply carries of the message it answers (docs/protocol.md §4): resolved from the parent in the same
 * channel when read, so it shows the parent's current content; `deleted` when the parent is deleted (or
 * unknown in this channel), and then nothing else of it.
 */
export const ReferencedMessage = {
  type: 'object',
  properties: {
    id: Snowflake,
    author: Author,
    /** The parent's content cut to REPLY_EXCERPT_LENGTH code points (replies.ts). */
    content: Str,
    deleted: { const: true },
  },
  required: ['id'],
} as const;
export type ReferencedMessage = Infer<typeof ReferencedMessage>;

export const Message = {
  type: 'object',
  properties: {
    id: Snowflake,
    channel_id: Snowflake,
    author: Author,
    /** 1..max code points after trimming (limits.ts). */
    content: Str,
    timestamp: Str,
    edited_timestamp: NullableStr,
    nonce: NullableStr,
    type: { const: 0 },
    /** Replies only: the message this one answers. */
    referenced_message: ReferencedMessage,
    /** Replies to this message that are not deleted; absent means 0. */
    reply_count: { type: 'integer', minimum: 1 },
  },
  required: ['id', 'channel_id', 'author', 'content', 'timestamp', 'edited_timestamp', 'type'],
} as const;
/** A message (docs/protocol.md §4); deleted messages are never returned. */
export type Message = Infer<typeof Message>;

/** The one place a Message is put together (gateway, persister and store all build it here). */
export function messageOf(m: {
  id: string;
  channel_id: string;
  author: Author;
  content: string;
  timestamp: string;
  edited_timestamp?: string | null | undefined;
  nonce?: string | null | undefined;
  referenced_message?: ReferencedMessage | null | undefined;
  reply_count?: number | null | undefined;
}): Message & { nonce: string | null } {
  const message: Message & { nonce: string | null } = {
    id: m.id,
    channel_id: m.channel_id,
    author: { id: m.author.id, username: m.author.username },
    content: m.content,
    timestamp: m.timestamp,
    edited_timestamp: m.edited_timestamp ?? null,
    nonce: m.nonce ?? null,
    type: 0,
  };
  if (m.referenced_message) message.referenced_message = m.referenced_message;
  if (m.reply_count) message.reply_count = m.reply_count;
  return message;
}

export const ChannelKind = { enum: ['dm', 'group'] } as const;
export type ChannelKind = Infer<typeof ChannelKind>;

export const Channel = {
  type: 'object',
  properties: {
    id: Snowflake,
    kind: ChannelKind,
    name: NullableStr,
    owner_id: { anyOf: [Snowflake, { type: 'null' }] },
    created_at: Str,
    /** Present on groups whose owner lets every member add members. */
    invite: { const: 'members' },
  },
  required: ['id', 'kind', 'name'],
} as const;
export type Channel = Infer<typeof Channel>;

export const PresenceStatus = { enum: ['online', 'offline'] } as const;
export type PresenceStatus = Infer<typeof PresenceStatus>;

export const PresenceUpdate = {
  type: 'object',
  properties: { user_id: Snowflake, status: PresenceStatus },
  required: ['user_id', 'status'],
} as const;
export type PresenceUpdate = Infer<typeof PresenceUpdate>;
