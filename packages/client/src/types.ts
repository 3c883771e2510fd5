// The objects of docs/protocol.md §4–6 as the client sees them. Ids are decimal strings (snowflakes
// exceed 2^53): compare them with `compareIds`, never with Number.

/** A snowflake or other id, written as a decimal string. */
export type Snowflake = string;

// Users, authors, messages and channels are the protocol's own types (docs/protocol.md §4).
import type { Channel, ChannelKind, Message, PresenceStatus, User } from '@chat/protocol';

export type { Author, Channel, ChannelKind, Message, PresenceStatus, User } from '@chat/protocol';

/** Payload of the READY event: the answer to IDENTIFY. */
export interface ReadyPayload {
  user: User;
  channels: Channel[];
  session_id: string;
  /**
   * Presence, as of READY, of the users who hear this user's presence: its DM partners and the members
   * of its small groups (bounded by the server). Absent when the server could not read presence.
   */
  presences?: PresenceUpdatePayload[];
}

/** Payload of the RESUMED event: the end of a RESUME replay. */
export interface ResumedPayload {
  /** How many events were replayed. */
  replayed: number;
  /** True when more than the server's cap (1000) had happened: page history to fill the gap. */
  truncated: boolean;
  /** Presence as of RESUMED, as in READY (PRESENCE_UPDATEs missed while away are not replayed). */
  presences?: PresenceUpdatePayload[];
}

/** Payload of HELLO (op 10). */
export interface HelloPayload {
  heartbeat_interval: number;
  server_id: string;
}

/** Payload of MESSAGE_DELETE. */
export interface MessageDeletePayload {
  id: Snowflake;
  channel_id: Snowflake;
}

// The payloads of the events below, as docs/protocol.md §5.5 specifies them; any field the gateway
// adds beyond these is passed through.

/** Payload of TYPING_START. */
export interface TypingStartPayload {
  channel_id: Snowflake;
  user_id: Snowflake;
  username?: string;
  /** Unix seconds. */
  timestamp?: number;
  [field: string]: unknown;
}

/** Payload of CHANNEL_CREATE: the channel and its initial members. */
export interface ChannelCreatePayload extends Channel {
  member_ids?: Snowflake[];
  [field: string]: unknown;
}

/** Payload of CHANNEL_MEMBER_ADD (with the channel) and CHANNEL_MEMBER_REMOVE. */
export interface ChannelMemberPayload {
  channel_id: Snowflake;
  user_id: Snowflake;
  channel?: Channel;
  [field: string]: unknown;
}

/** Payload of PRESENCE_UPDATE (and an entry of READY's `presences`). */
export interface PresenceUpdatePayload {
  user_id: Snowflake;
  status: PresenceStatus;
  [field: string]: unknown;
}

/** Result of `POST /api/sessions`. */
export interface LoginResult {
  token: string;
  user: User;
}

/** Body of `POST /api/channels`. */
export interface CreateChannelInput {
  kind: ChannelKind;
  name?: string;
  recipients?: Snowflake[];
  /** Groups: who may add members — the owner only (default) or every member. */
  invite?: 'owner' | 'members';
}

/** History paging (docs/protocol.md §6): newest first, `limit` ≤ 100 (default 50). */
export interface HistoryQuery {
  /** Messages older than this id. */
  before?: Snowflake;
  /** Messages newer than this id. */
  after?: Snowflake;
  limit?: number;
}

/** The REQUEST (op 20) methods of docs/protocol.md §5 with their params and results. */
export interface RequestMethods {
  'message.create': { params: { channel_id: Snowflake; content: string; nonce?: string }; result: Message };
  'message.update': { params: { channel_id: Snowflake; message_id: Snowflake; content: string }; result: Message };
  'message.delete': { params: { channel_id: Snowflake; message_id: Snowflake }; result: unknown };
  'typing.start': { params: { channel_id: Snowflake }; result: unknown };
  'history.get': { params: { channel_id: Snowflake } & HistoryQuery; result: Message[] };
}
export type RequestMethod = keyof RequestMethods;

/** Where the WebSocket session is. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';
