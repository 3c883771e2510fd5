// The objects of docs/protocol.md §4–6 as the client sees them. Ids are decimal strings (snowflakes
// exceed 2^53): compare them with `compareIds`, never with Number.

/** A snowflake or other id, written as a decimal string. */
export type Snowflake = string;

// Every object and payload below is the protocol's own type (docs/protocol.md §4–5, @chat/protocol):
// defined once as a schema there. Event payloads may carry fields a newer gateway adds; the client
// passes them through, so each payload type here also admits unknown fields (`Open<…>`).
import type {
  AckPayload as AckSchema,
  ChannelCreatePayload as ChannelCreateSchema,
  ChannelMemberPayload as ChannelMemberSchema,
  CreateChannelBody,
  HelloPayload as HelloSchema,
  LoginResult as LoginResultSchema,
  MessageDeletePayload as MessageDeleteSchema,
  PresenceUpdate,
  RequestMethod as ProtocolRequestMethod,
  ReadyPayload as ReadySchema,
  RequestParams,
  RequestResult,
  ResumedPayload as ResumedSchema,
  TypingStartPayload as TypingStartSchema,
} from '@chat/protocol';

export type {
  Author,
  Channel,
  ChannelKind,
  ChannelWithReadState,
  Message,
  PresenceStatus,
  ReferencedMessage,
  User,
} from '@chat/protocol';

/** A payload as the protocol defines it, plus any field the gateway adds (passed through). */
type Open<T> = T & { [field: string]: unknown };

/** Payload of the READY event: the answer to IDENTIFY (`presences`: the presence audience's status). */
export type ReadyPayload = Open<ReadySchema>;
/** Payload of the RESUMED event: the end of a RESUME replay (`truncated`: page history to fill the gap). */
export type ResumedPayload = Open<ResumedSchema>;
/** Payload of HELLO (op 10). */
export type HelloPayload = Open<HelloSchema>;
/** Payload of MESSAGE_DELETE. */
export type MessageDeletePayload = Open<MessageDeleteSchema>;
/** Payload of TYPING_START (`timestamp`: Unix seconds). */
export type TypingStartPayload = Open<TypingStartSchema>;
/** Payload of CHANNEL_CREATE: the channel and its initial members. */
export type ChannelCreatePayload = Open<ChannelCreateSchema>;
/** Payload of CHANNEL_MEMBER_ADD (with the channel) and CHANNEL_MEMBER_REMOVE. */
export type ChannelMemberPayload = Open<ChannelMemberSchema>;
/** Payload of PRESENCE_UPDATE (and an entry of READY's `presences`). */
export type PresenceUpdatePayload = Open<PresenceUpdate>;

/** Payload of ACK (the user's read position moved in another session), and the result of `ack`. */
export type AckPayload = Open<AckSchema>;

/** Result of `POST /api/sessions`. */
export type LoginResult = LoginResultSchema;

/** Body of `POST /api/channels` (groups: `invite` says who may add members, the owner only by default). */
export type CreateChannelInput = CreateChannelBody;

/** History paging (docs/protocol.md §6): newest first, `limit` ≤ 100 (default 50). */
export interface HistoryQuery {
  /** Messages older than this id. */
  before?: Snowflake;
  /** Messages newer than this id. */
  after?: Snowflake;
  limit?: number;
}

/** A page of a message's replies (`ChatClient.replies`), newest first. */
export interface RepliesQuery {
  /** Replies older than this id. */
  before?: Snowflake;
  /** 1..100 (server default 50). */
  limit?: number;
}

/** The REQUEST (op 20) methods of docs/protocol.md §5 with their params and results (the protocol's). */
export type RequestMethods = {
  [M in ProtocolRequestMethod]: { params: RequestParams<M>; result: RequestResult<M> };
};
export type RequestMethod = keyof RequestMethods;

/** Where the WebSocket session is. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Search options (docs/protocol.md §6.2 `GET /search`): newest first, `limit` 1..50 (default 25). */
export interface SearchQuery {
  /** Only this channel (one you are a member of); default: all your channels. */
  channelId?: Snowflake;
  /** Messages older than this id: the last id of the previous page. */
  before?: Snowflake;
  limit?: number;
}
