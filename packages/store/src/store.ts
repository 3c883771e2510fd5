// createStore(): the one place that knows MongoDB. Collections, indexes and queries shared by the
// persister and the gateways; membership reads go through the Redis cache when one is given.

import type { Logger } from '@chat/protocol';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { Accounts } from './accounts.js';
import { Channels } from './channels.js';
import { KnownTops } from './known-tops.js';
import { MembershipCache } from './membership-cache.js';
import { type ChannelCountDoc, MessageCounts } from './message-counts.js';
import { Messages } from './messages.js';
import { PasswordHasher, type PasswordHasherOptions } from './passwords.js';
import { type ReadStateDoc, ReadStates } from './read-states.js';
import { Replies, type ReplyWaitDoc } from './replies.js';
import { MessageSearch } from './search.js';
import type { ChannelDoc, MemberDoc, MessageDoc, UserDoc } from './types.js';

export interface StoreOptions {
  /** A connected MongoDB database (the caller owns the client). */
  db: Db;
  /** An ioredis client for the membership cache (the caller owns it). Without it, membership is read from MongoDB. */
  redis?: Redis | undefined;
  /** Key prefix in Redis. Default `chat:`. */
  redisPrefix?: string;
  /** Seconds a cached member set lives. Default 300. */
  cacheTtlSeconds?: number;
  /** S, for the slot sets. Default 1024. */
  slots?: number;
  /**
   * How many channels each process remembers the kind of, answering DM membership from memory (a DM's
   * members never change): default 50,000 (≈ 300 bytes each); 0 turns it off.
   */
  dmCacheChannels?: number;
  /**
   * How many channels' top ordinals each process remembers from its own appends, so that a batch needs
   * no read of the cached counts first (`known-tops.ts`): default 50,000 (≈ 100 bytes each); 0 turns it off.
   */
  ordinalCacheChannels?: number;
  /** Password hashing cost and rationing (scrypt N = 2^logN; default 17, at most 2 at once, 64 waiting). */
  passwords?: PasswordHasherOptions;
  logger?: Logger;
}

export interface Store {
  readonly messages: Messages;
  readonly accounts: Accounts;
  readonly channels: Channels;
  /** Full-text search over messages (the text index on `content`). */
  readonly search: MessageSearch;
  /** Replies pages and the parents' reply counts (on the messages collection). */
  readonly replies: Replies;
  /** Per-channel message counts and authors' own positions, raised by `messages.append`. */
  readonly counts: MessageCounts;
  /** Per-user read positions. */
  readonly readStates: ReadStates;
  /** Creates every index, idempotently. Call once at start. */
  init(): Promise<void>;
  /** A cheap round trip to MongoDB (readiness checks). */
  ping(): Promise<void>;
}

export function createStore(options: StoreOptions): Store {
  const { db } = options;
  const logger = options.logger;
  let lastCacheWarn = 0;
  const cache = options.redis
    ? new MembershipCache({
        redis: options.redis,
        prefix: options.redisPrefix ?? 'chat:',
        ttlSeconds: options.cacheTtlSeconds ?? 300,
        onError: (err) => {
          // Redis trouble is survivable; say so at most every 10 s rather than per request.
          const now = Date.now();
          if (now - lastCacheWarn > 10_000) {
            lastCacheWarn = now;
            logger?.warn({ err: (err as Error).message }, 'membership cache unavailable; reading MongoDB');
          }
        },
      })
    : undefined;
  const counts = new MessageCounts(
    db.collection<MessageDoc>('messages'),
    db.collection<ChannelCountDoc>('channel_counts'),
  );
  const messages = new Messages(
    db.collection<MessageDoc>('messages'),
    counts,
    new KnownTops({ maxChannels: options.ordinalCacheChannels ?? 50_000 }),
  );
  const search = new MessageSearch(db.collection<MessageDoc>('messages'), messages);
  const accounts = new Accounts(db.collection<UserDoc>('users'), new PasswordHasher(options.passwords));
  const channels = new Channels(
    db.collection<ChannelDoc>('channels'),
    db.collection<MemberDoc>('members'),
    cache,
    options.slots ?? 1024,
    options.dmCacheChannels ?? 50_000,
  );
  const replies = new Replies(
    db.collection<MessageDoc>('messages'),
    db.collection<ReplyWaitDoc>('reply_waits'),
    messages,
  );
  const readStates = new ReadStates(db.collection<ReadStateDoc>('read_states'));
  return {
    messages,
    accounts,
    channels,
    search,
    replies,
    counts,
    readStates,
    async init() {
      await Promise.all([
        messages.createIndexes(),
        accounts.createIndexes(),
        channels.createIndexes(),
        search.createIndexes(),
        replies.createIndexes(),
        readStates.createIndexes(),
      ]);
    },
    async ping() {
      await db.command({ ping: 1 });
    },
  };
}
