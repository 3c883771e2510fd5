// Envelope types of docs/protocol.md §3 and their validation: what may be published and what a
// consumer accepts. Validation is structural; content rules belong to the persister.

export const PROTOCOL_VERSION = 1;

/** Dispatch events that travel on the route exchanges (docs/protocol.md §5). */
export const DISPATCH_EVENTS = [
  'MESSAGE_CREATE',
  'MESSAGE_UPDATE',
  'MESSAGE_DELETE',
  'TYPING_START',
  'CHANNEL_CREATE',
  'CHANNEL_MEMBER_ADD',
  'CHANNEL_MEMBER_REMOVE',
  'PRESENCE_UPDATE',
] as const;
export type DispatchEvent = (typeof DISPATCH_EVENTS)[number];
const dispatchEvents: ReadonlySet<string> = new Set(DISPATCH_EVENTS);

export const DURABLE_WRITE_TYPES = ['message.create', 'message.update', 'message.delete'] as const;
export type DurableWriteType = (typeof DURABLE_WRITE_TYPES)[number];
const durableWriteTypes: ReadonlySet<string> = new Set(DURABLE_WRITE_TYPES);

export interface Author {
  id: string;
  username: string;
}

export interface MessageCreateWrite {
  v: 1;
  type: 'message.create';
  /** Snowflake of the new message (decimal string). */
  id: string;
  channel_id: string;
  author: Author;
  content: string;
  nonce?: string;
  /** ISO 8601. */
  timestamp: string;
}

export interface MessageUpdateWrite {
  v: 1;
  type: 'message.update';
  /** Event id (snowflake) of this edit. */
  id: string;
  message_id: string;
  channel_id: string;
  author_id: string;
  content: string;
}

export interface MessageDeleteWrite {
  v: 1;
  type: 'message.delete';
  /** Event id (snowflake) of this delete. */
  id: string;
  message_id: string;
  channel_id: string;
  author_id: string;
}

/** A durable write, published to `<prefix>.persist`. */
export type DurableWrite = MessageCreateWrite | MessageUpdateWrite | MessageDeleteWrite;

/** A delivery, published to `<prefix>.route.<p>`. */
export interface DispatchEnvelope<D = unknown> {
  v: 1;
  type: 'dispatch';
  event: DispatchEvent;
  /** Deliver to local members of this channel. */
  channel_id?: string;
  /** Deliver to these users' local sockets. */
  to?: string[];
  data: D;
}

const SNOWFLAKE_RE = /^(0|[1-9][0-9]{0,19})$/;

/** A snowflake written as a decimal string that fits in 64 unsigned bits. */
export function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && SNOWFLAKE_RE.test(value) && BigInt(value) < 1n << 64n;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a dispatch envelope is not acceptable, or undefined when it is. */
export function dispatchProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not_an_object';
  if (value.v !== PROTOCOL_VERSION) return 'unsupported_version';
  if (value.type !== 'dispatch') return 'unknown_type';
  if (typeof value.event !== 'string' || !dispatchEvents.has(value.event)) return 'unknown_event';
  const hasChannel = value.channel_id !== undefined;
  const hasTo = value.to !== undefined;
  if (!hasChannel && !hasTo) return 'no_audience';
  if (hasChannel && typeof value.channel_id !== 'string') return 'invalid_channel_id';
  if (hasTo && !(Array.isArray(value.to) && value.to.every((u) => typeof u === 'string'))) return 'invalid_to';
  if (!('data' in value)) return 'missing_data';
  return undefined;
}

/** Why a durable write is not acceptable to publish, or undefined when it is. */
export function durableWriteProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not_an_object';
  if (value.v !== PROTOCOL_VERSION) return 'unsupported_version';
  if (typeof value.type !== 'string' || !durableWriteTypes.has(value.type)) return 'unknown_type';
  if (!isSnowflake(value.id)) return 'invalid_id';
  if (typeof value.channel_id !== 'string' || value.channel_id === '') return 'invalid_channel_id';
  if (value.type !== 'message.create' && !isSnowflake(value.message_id)) return 'invalid_message_id';
  return undefined;
}
