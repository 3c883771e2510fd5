// @chat/client — the public door. Everything else lives under src/internal/.

export { CloseCode, type Logger, Op } from '@chat/protocol';
export { ChatClient, createClient } from './client.js';
export {
  AuthenticationFailedError,
  ChatApiError,
  ChatClientError,
  ChatRequestError,
  ClientClosedError,
  ConnectionLostError,
  ConnectTimeoutError,
  ERROR_CLASSES,
  type FailedRequest,
  InvalidArgumentError,
  NetworkError,
  NotAuthenticatedError,
  ProtocolError,
  ReconnectFailedError,
  RequestTimeoutError,
} from './errors.js';
export type { ClientEventListener, ClientEventName, ClientEvents } from './events.js';
export type { BackoffOptions } from './internal/backoff.js';
export type { FetchLike } from './internal/http-api.js';
export { createNonce } from './internal/nonce.js';
export type { StateChange } from './internal/session.js';
export { CHAT_EPOCH_MS, compareIds, isSnowflake, resumeSince, timestampOfId } from './internal/snowflake.js';
export type { WebSocketConstructor, WebSocketLike } from './internal/websocket.js';
export type { ClientOptions, ReconnectOptions, RequestOptions, ResolvedClientOptions } from './options.js';
export type {
  AckPayload,
  Author,
  Channel,
  ChannelCreatePayload,
  ChannelKind,
  ChannelMemberPayload,
  ChannelWithReadState,
  ConnectionState,
  CreateChannelInput,
  HelloPayload,
  HistoryQuery,
  LoginResult,
  Message,
  MessageDeletePayload,
  PresenceStatus,
  PresenceUpdatePayload,
  ReadyPayload,
  ReferencedMessage,
  RepliesQuery,
  RequestMethod,
  RequestMethods,
  ResumedPayload,
  SearchQuery,
  Snowflake,
  TypingStartPayload,
  User,
} from './types.js';
