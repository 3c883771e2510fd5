// Documents as stored in MongoDB and the objects the store returns (docs/protocol.md §4 shapes).
import type {
  Author,
  ChannelKind,
  Channel as ProtocolChannel,
  Message as ProtocolMessage,
  User as ProtocolUser,
} from '@chat/protocol';
import type { Long } from 'mongodb';

/** Authors, users, channels and messages are the protocol's (docs/protocol.md §4); messages built by its `messageOf`. */
export type { Author, ChannelKind } from '@chat/protocol';

/** A message as the store returns it: always with its nonce (null when the sender gave none). */
export type Message = ProtocolMessage & { nonce: string | null };

export interface MessageDoc {
  _id: Long;
  channel_id: string;
  bucket: number;
  author: Author;
  content: string;
  timestamp: Date;
  edited_timestamp: Date | null;
  nonce: string | null;
  deleted: boolean;
  /**
   * Event id of the last edit or delete applied; absent on a message never changed (its own id stands
   * for it), so only changed messages are in the `channel_changes` index. Documents stored before
   * 2026-12-04 hold their own id here; both forms read the same.
   */
  updated_id?: Long;
  /** The message's ordinal in its channel: 1, 2, 3, … without gaps (ordinal-append.ts). */
  n: number;
  /** Replies only: the id of the message (of the same channel) this one answers. */
  reply_to?: Long;
  /** Replies to this message that are not deleted (kept by the persister: replies.ts); absent means 0. */
  reply_count?: number;
  /** Bumped before every recount of `reply_count`: a recount only lands if no bump came after its read. */
  reply_version?: number;
}

/** A message to append: the fields a `message.create` write carries. */
export interface NewMessage {
  id: string;
  channel_id: string;
  author: Author;
  content: string;
  nonce?: string | null | undefined;
  /** ISO 8601; default: the time in the id. */
  timestamp?: string | undefined;
  /** The message of the same channel this one answers. */
  reply_to?: string | null | undefined;
}

/** A user as the store returns it: always with its creation time. */
export type User = ProtocolUser & { created_at: string };

export interface UserDoc {
  _id: string;
  username: string;
  /** Lower-cased username: the unique key, so "Alice" and "alice" cannot both exist. */
  username_key: string;
  password_hash: string;
  created_at: Date;
  /** Bumped to revoke every token issued before (logout everywhere); absent means 0. */
  token_version?: number;
}

/** A channel as the store returns it: owner (null for DMs) and creation time always present. */
export type Channel = ProtocolChannel & { owner_id: string | null; created_at: string };

export interface ChannelDoc {
  _id: string;
  kind: ChannelKind;
  name: string | null;
  owner_id: string | null;
  /** For DMs: the two user ids sorted and joined, unique, so a pair has one DM channel. */
  dm_key?: string;
  created_at: Date;
  /** Groups: 'members' when every member may add members (the owner's choice at creation). */
  invite?: 'members';
}

export interface MemberDoc {
  channel_id: string;
  user_id: string;
  joined_at: Date;
}

/** One change for RESUME, in event-id order. */
export interface ChangeEvent {
  event: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE';
  /** Event id: the message id for a create, the edit/delete event id otherwise. */
  event_id: string;
  channel_id: string;
  /** The message as stored now (for MESSAGE_DELETE: `{ id, channel_id }` only). */
  data: Message | { id: string; channel_id: string };
}

export type ApplyResult = 'applied' | 'ignored';
