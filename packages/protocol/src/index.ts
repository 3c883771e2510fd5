// @chat/protocol — the chat backend's protocol in one place (docs/protocol.md): each concept defined once
// as a JSON Schema, its TypeScript type inferred from it, its validator generated from it. No runtime
// dependencies, no I/O, no `node:` imports: the same code runs in services and browsers.

export {
  ADMIN_HTTP_RESULTS,
  AdminGateway,
  AdminQueue,
  AdminQueues,
  DEAD_LETTER_ID_PATTERN,
  DeadLetter,
  DeadLetters,
  MAX_DEAD_LETTER_LISTING,
  MAX_LISTED_BOUND_KEYS,
  MAX_LISTED_QUEUES,
} from './admin.js';
export { ADMIN_HTTP_ROUTES } from './admin-routes.js';
export { CLIENT_BUG_CLOSE_CODES, CloseCode } from './close-codes.js';
export {
  DispatchEnvelope,
  DURABLE_WRITE_TYPES,
  DURABLE_WRITES,
  type DurableWrite,
  DurableWriteHeader,
  type DurableWriteType,
  MessageCreateWrite,
  MessageDeleteWrite,
  MessageUpdateWrite,
  PROTOCOL_VERSION,
} from './envelopes.js';
export { API_ERRORS, type ApiErrorCode, ErrorBody, ResponseError } from './errors.js';
export {
  ChannelCreatePayload,
  ChannelMemberPayload,
  DISPATCH_EVENTS,
  type DispatchEvent,
  EPHEMERAL_EVENTS,
  EVENT_PAYLOADS,
  HelloPayload,
  MessageDeletePayload,
  ReadyPayload,
  ResumedPayload,
  SESSION_EVENTS,
  type SessionEvent,
  TypingStartPayload,
} from './events.js';
export {
  ClientFrame,
  dispatchFrame,
  errorResponse,
  type Frame,
  frame,
  ResponsePayload,
  response,
  ServerFrame,
} from './frames.js';
export { BUCKET_MS, bucketOf, fnv1a32, partitionOf, slotOf } from './hashing.js';
export {
  AddMemberBody,
  CreateChannelBody,
  Credentials,
  EditMessageBody,
  HTTP_RESULTS,
  LoginResult,
  SendMessageBody,
} from './http.js';
export { COMMON_HTTP_ERRORS, HTTP_ROUTES, type HttpRoute } from './http-routes.js';
export type { Infer } from './infer.js';
export { DEFAULT_MAX_CONTENT_LENGTH, HISTORY_LIMIT, MAX_NONCE_LENGTH, MAX_SHORT_STRING } from './limits.js';
export { type Logger, silentLogger } from './logger.js';
export {
  Author,
  Channel,
  ChannelKind,
  Message,
  messageOf,
  PresenceStatus,
  PresenceUpdate,
  ReferencedMessage,
  User,
} from './objects.js';
export { Op } from './opcodes.js';
export { parseClientFrame, parseServerFrame, type ResponseReading, readResponse } from './parse-frame.js';
export {
  AckBody,
  AckPayload,
  ChannelWithReadState,
  ReadAckParams,
  ReadStateFields,
} from './read-state.js';
export { excerptOf, REPLIES_LIMIT, REPLY_EXCERPT_LENGTH, REPLY_TO_PENDING_MS, referenceOf } from './replies.js';
export {
  HistoryGetParams,
  MessageCreateParams,
  MessageDeleteParams,
  MessageUpdateParams,
  REQUEST_METHODS,
  type RequestMethod,
  type RequestParams,
  type RequestResult,
  TypingStartParams,
} from './requests.js';
export { VALIDATED_SCHEMAS, type ValidatedSchemaName } from './schemas.js';
export { SEARCH_DELIMITER, SEARCH_LIMITS, SearchParams, searchTerms } from './search.js';
export {
  CHAT_EPOCH_MS,
  decimalUpTo,
  isSnowflake,
  MAX_SNOWFLAKE,
  makeSnowflake,
  parseSnowflake,
  SNOWFLAKE_PATTERN,
  Snowflake,
  type SnowflakeParts,
  snowflakeAt,
} from './snowflake.js';
export { checkContent, codePoints } from './text.js';
export {
  clientFrame,
  dispatchEnvelope,
  durableWriteHeader,
  durableWrites,
  type Failure,
  httpBodies,
  requestParams,
  responsePayload,
  serverFrame,
  type Validator,
} from './validators.js';
