// @chat/store — the public door.

export type { Logger } from '@chat/protocol';
export { Accounts } from './accounts.js';
export { Channels, type NewChannel } from './channels.js';
export { DmMemberships, type LearnedChannel, type Membership } from './dm-memberships.js';
export {
  ConflictError,
  ERROR_CLASSES,
  isPermanentError,
  NotFoundError,
  PasswordHasherBusyError,
  StoreError,
  ValidationError,
} from './errors.js';
export { KnownTops, type KnownTopsOptions } from './known-tops.js';
export { MembershipCache, type MembershipCacheOptions } from './membership-cache.js';
export {
  type ChannelCount,
  type ChannelCountFor,
  type ChannelRaise,
  MessageCounts,
  type OrdinalPosition,
} from './message-counts.js';
export { type HistoryQuery, MESSAGE_INDEXES, Messages, messageIndexSpecs, toLong, toMessage } from './messages.js';
export { type AppendResult, raisesOf } from './ordinal-append.js';
export { PasswordHasher, type PasswordHasherOptions } from './passwords.js';
export { later, READ_STATE_INDEXES, type ReadPosition, ReadStates, unreadCount } from './read-states.js';
export { Replies, type RepliesQuery } from './replies.js';
export { MessageSearch, SEARCH_INDEX, type SearchQuery } from './search.js';
export { createStore, type Store, type StoreOptions } from './store.js';
export type {
  ApplyResult,
  Author,
  ChangeEvent,
  Channel,
  ChannelKind,
  Message,
  NewMessage,
  User,
} from './types.js';
