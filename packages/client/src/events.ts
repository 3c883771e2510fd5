// The client's events: their names, their listener arguments, and which DISPATCH `t` becomes which
// event. Message events are de-duplicated before they get here (internal/message-dedup.ts).
import type { ChatClientError } from './errors.js';
import type { Listener } from './internal/emitter.js';
import type { StateChange } from './internal/session.js';
import type {
  AckPayload,
  ChannelCreatePayload,
  ChannelMemberPayload,
  ConnectionState,
  Message,
  MessageDeletePayload,
  PresenceUpdatePayload,
  ReadyPayload,
  ResumedPayload,
  TypingStartPayload,
} from './types.js';

/** Events and their listener arguments: the typed event map of `on`, `once` and `off`. */
export interface ClientEvents {
  ready: [payload: ReadyPayload];
  resumed: [payload: ResumedPayload];
  messageCreate: [message: Message];
  messageUpdate: [message: Message];
  messageDelete: [payload: MessageDeletePayload];
  typingStart: [payload: TypingStartPayload];
  channelCreate: [channel: ChannelCreatePayload];
  channelMemberAdd: [payload: ChannelMemberPayload];
  channelMemberRemove: [payload: ChannelMemberPayload];
  presenceUpdate: [payload: PresenceUpdatePayload];
  /** The user's read position moved (an ack from another session or over HTTP). */
  ack: [payload: AckPayload];
  /** Every DISPATCH as received, duplicates included: `t` is the event name, `d` its payload. */
  dispatch: [t: string, d: unknown];
  state: [state: ConnectionState, previous: ConnectionState, change: StateChange];
  error: [error: ChatClientError];
}

/** An event name of ClientEvents. */
export type ClientEventName = keyof ClientEvents;
/** The listener of event `K`. */
export type ClientEventListener<K extends ClientEventName> = Listener<ClientEvents[K]>;

/** The DISPATCH events other than READY, RESUMED and MESSAGE_*, by `t`; their payloads pass on as received. */
export const DISPATCH_EVENT_NAMES: ReadonlyMap<string, ClientEventName> = new Map<string, ClientEventName>([
  ['TYPING_START', 'typingStart'],
  ['CHANNEL_CREATE', 'channelCreate'],
  ['CHANNEL_MEMBER_ADD', 'channelMemberAdd'],
  ['CHANNEL_MEMBER_REMOVE', 'channelMemberRemove'],
  ['PRESENCE_UPDATE', 'presenceUpdate'],
  ['ACK', 'ack'],
]);
