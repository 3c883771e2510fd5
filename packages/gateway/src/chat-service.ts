// The chat operations behind both the HTTP API and WebSocket requests: membership checks,
// validation, durable writes through the router (answered only after the broker's confirm),
// membership changes announced to the affected users (through the hub). Transport-agnostic: errors are ApiErrors.
import {
  type DispatchEnvelope,
  type Logger,
  messageOf,
  parseSnowflake,
  REPLIES_LIMIT,
  REPLY_TO_PENDING_MS,
  type ReferencedMessage,
  referenceOf,
  SEARCH_LIMITS,
} from '@chat/protocol';
import { dispatchToMembers, type Router, type SnowflakeGenerator } from '@chat/router';
import {
  type Channel,
  ConflictError,
  type Message,
  NotFoundError,
  PasswordHasherBusyError,
  type Store,
  type User,
  ValidationError,
} from '@chat/store';
import { ApiError } from './errors.js';
import type { MembershipEvent } from './hub.js';
import type { NonceGuard } from './nonce-guard.js';
import { checkSearch } from './search-query.js';
import { checkContent, checkNonce } from './validation.js';

export interface Author {
  id: string;
  username: string;
}

export interface ChatServiceOptions {
  router: Router;
  store: Store;
  ids: SnowflakeGenerator;
  nonces: NonceGuard;
  logger: Logger;
  /** Tells the users concerned of a stored membership change (Hub.announce: confirmed, never throws). */
  announce(event: MembershipEvent, to: string[], data: unknown): Promise<void>;
  maxContentLength: number;
  defaultGroup: string;
  /** Called with the send → broker-confirm time of every message write, its id and its author's id. */
  onConfirm?: (seconds: number, message: { id: string; authorId: string }) => void;
  /** The retry hint of `overloaded` when the persist queue is full. Default 1000 ms. */
  overloadRetryAfterMs?: number;
  /** Called when the broker refused a durable write because the persist queue is full. */
  onQueueFull?: () => void;
  /** Groups one user may be a member of (the default group included). Default 100. */
  maxGroupsPerUser?: number;
  /** Members of a group (the default group excepted). Default 1000. */
  maxGroupMembers?: number;
  /** How far (ms) from now a `reply_to` id not stored yet may be and be accepted. Default REPLY_TO_PENDING_MS. */
  replyToPendingMs?: number;
}

/** The default group's id: fixed, so every gateway agrees on it without coordination. */
export const DEFAULT_GROUP_ID = '1';
/** Above this many members a membership change is announced to the user concerned only. */
const ANNOUNCE_LIMIT = 1000;

function mapStoreError(err: unknown): never {
  if (err instanceof ApiError) throw err;
  if (err instanceof ValidationError) throw new ApiError('invalid_request', err.message);
  if (err instanceof ConflictError) throw new ApiError('username_taken', err.message);
  if (err instanceof NotFoundError) throw new ApiError('not_found', err.message);
  if (err instanceof PasswordHasherBusyError) {
    throw new ApiError('overloaded', 'too many sign-ups and logins at once; retry shortly', {
      retryAfterMs: 1000,
      cause: err,
    });
  }
  const e = err as { retryable?: boolean; code?: string; message?: string };
  if (e?.retryable) throw new ApiError('unavailable', 'the message broker is unavailable; retry', { cause: err });
  throw new ApiError('unavailable', 'a dependency failed; retry', { cause: err });
}

export class ChatService {
  readonly #o: ChatServiceOptions;

  constructor(options: ChatServiceOptions) {
    this.#o = options;
  }

  /** Creates the default group if it does not exist yet (idempotent, safe on every gateway). */
  async ensureDefaultGroup(): Promise<void> {
    if (!this.#o.defaultGroup) return;
    if (await this.#o.store.channels.get(DEFAULT_GROUP_ID)) return;
    try {
      await this.#o.store.channels.create({
        id: DEFAULT_GROUP_ID,
        kind: 'group',
        name: this.#o.defaultGroup,
        creatorId: 'system',
      });
      await this.#o.store.channels.removeMember(DEFAULT_GROUP_ID, 'system');
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err; // another gateway created it first
    }
  }

  async register(username: string, password: string): Promise<{ id: string; username: string }> {
    try {
      const user = await this.#o.store.accounts.create(await this.#o.ids.next(), username, password);
      if (this.#o.defaultGroup) await this.#join(DEFAULT_GROUP_ID, user.id);
      return { id: user.id, username: user.username };
    } catch (err) {
      mapStoreError(err);
    }
  }

  /** The user when the password matches; `unauthorized` otherwise; `overloaded` while password checks are rationed. */
  async login(username: string, password: string): Promise<User> {
    let user: User | null;
    try {
      user = await this.#o.store.accounts.authenticate(username, password);
    } catch (err) {
      mapStoreError(err);
    }
    if (!user) throw new ApiError('unauthorized', 'wrong username or password');
    return user;
  }

  /** Revokes every token issued to the user so far (logout everywhere). */
  async revokeTokens(userId: string): Promise<void> {
    try {
      if ((await this.#o.store.accounts.revokeTokens(userId)) === null) throw new ApiError('not_found', 'unknown user');
    } catch (err) {
      mapStoreError(err);
    }
  }

  async requireMember(channelId: string, userId: string): Promise<void> {
    let member: boolean;
    try {
      member = await this.#o.store.channels.isMember(channelId, userId);
    } catch (err) {
      mapStoreError(err);
    }
    if (!member) throw new ApiError('not_a_member', 'you are not a member of this channel');
  }

  async channelsOf(userId: string): Promise<Channel[]> {
    try {
      return await this.#o.store.channels.listForUser(userId);
    } catch (err) {
      mapStoreError(err);
    }
  }

  /**
   * message.create: answered with the message only after the broker confirmed the durable write. A reply
   * (`replyTo`) must answer a message of this channel that is not deleted (`not_found` otherwise, the same
   * answer for an unknown id and for another channel's: nothing of it is revealed; see #reference).
   */
  async sendMessage(
    author: Author,
    channelId: string,
    rawContent: string,
    rawNonce?: string | null,
    replyTo?: string | null,
  ): Promise<Message> {
    await this.requireMember(channelId, author.id);
    const content = checkContent(rawContent, this.#o.maxContentLength);
    const nonce = checkNonce(rawNonce);
    // Checked on the first attempt only: a retry with the same nonce returns the stored message even if
    // the parent was deleted since.
    let referenced_message: ReferencedMessage | undefined = replyTo ? { id: replyTo } : undefined;
    const message = (id: string, timestamp: string): Message =>
      messageOf({ id, channel_id: channelId, author, content, timestamp, nonce, referenced_message });
    // A write's identity: its id and timestamp, minted once per nonce (NonceGuard): every attempt of one
    // nonce publishes the same message, so the persister stores it at most once.
    const mint = async (): Promise<string> => `${await this.#o.ids.next()} ${new Date().toISOString()}`;
    const identity = (ref: string): { id: string; timestamp: string } => {
      const [id = '', timestamp = ''] = ref.split(' ');
      return { id, timestamp };
    };
    const publish = async (ref: string): Promise<Message> => {
      if (replyTo) referenced_message = await this.#reference(channelId, replyTo);
      const { id, timestamp } = identity(ref);
      const started = performance.now();
      try {
        await this.#o.router.durableWrite({
          v: 1,
          type: 'message.create',
          id,
          channel_id: channelId,
          author,
          content,
          nonce,
          timestamp,
          ...(replyTo ? { reply_to: replyTo } : {}),
        });
      } catch (err) {
        this.#mapWriteError(err);
      }
      this.#o.onConfirm?.((performance.now() - started) / 1000, { id, authorId: author.id });
      return message(id, timestamp);
    };
    if (!nonce) return publish(await mint());
    try {
      // The nonce record keeps the identity only: a retry of a write done reads the stored message, or
      // (not persisted yet) rebuilds it from the retry, which carries the same content.
      return await this.#o.nonces.once(author.id, channelId, nonce, {
        mint,
        run: publish,
        fromRef: async (ref) => {
          const { id, timestamp } = identity(ref);
          return (await this.#o.store.messages.get(channelId, id).catch(() => null)) ?? message(id, timestamp);
        },
      });
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError('unavailable', (err as Error).message);
    }
  }

  /**
   * The reference to a message of this channel that a new reply answers; `not_found` when there is none
   * (deleted, unknown or of another channel) unless the id is recent enough to be still on its way to
   * the store (REPLY_TO_PENDING_MS): then the reference holds only its id.
   */
  async #reference(channelId: string, messageId: string): Promise<ReferencedMessage> {
    let parent: Message | null;
    try {
      parent = await this.#o.store.messages.get(channelId, messageId);
    } catch (err) {
      mapStoreError(err);
    }
    if (parent) return referenceOf(messageId, parent);
    // Not stored: acknowledged but not stored yet if its id is recent (the persister resolves it then;
    // read in this channel only, so another channel's id shows as deleted), else unknown.
    const pendingMs = this.#o.replyToPendingMs ?? REPLY_TO_PENDING_MS;
    if (Math.abs(Date.now() - parseSnowflake(messageId).timestampMs) > pendingMs) {
      throw new ApiError('not_found', 'unknown message to reply to (reply_to)');
    }
    return { id: messageId };
  }

  /**
   * replies.get: a page of a message's replies, newest first (members only, the errors of history; a
   * message unknown in this channel is `not_found`). A deleted message's replies stay readable.
   */
  async replies(
    userId: string,
    channelId: string,
    messageId: string,
    q: { before?: string | undefined; limit?: number | undefined },
  ): Promise<Message[]> {
    await this.requireMember(channelId, userId);
    const limit = q.limit ?? REPLIES_LIMIT.default;
    if (!Number.isInteger(limit) || limit < REPLIES_LIMIT.min || limit > REPLIES_LIMIT.max)
      throw new ApiError('invalid_request', `limit must be ${REPLIES_LIMIT.min}-${REPLIES_LIMIT.max}`);
    try {
      if (!(await this.#o.store.replies.exists(channelId, messageId)))
        throw new ApiError('not_found', 'unknown message');
      return await this.#o.store.replies.page(channelId, messageId, { before: q.before, limit });
    } catch (err) {
      mapStoreError(err);
    }
  }

  /** A durable write's failure: a full persist queue is `overloaded` (not stored: retry later). */
  #mapWriteError(err: unknown): never {
    if ((err as { code?: string }).code === 'ROUTER_QUEUE_FULL') {
      this.#o.onQueueFull?.();
      throw new ApiError('overloaded', 'the system is overloaded: the message was not stored; retry later', {
        retryAfterMs: this.#o.overloadRetryAfterMs ?? 1000,
        cause: err,
      });
    }
    mapStoreError(err);
  }

  async #requireAuthor(channelId: string, messageId: string, userId: string): Promise<Message> {
    await this.requireMember(channelId, userId);
    let message: Message | null;
    try {
      message = await this.#o.store.messages.get(channelId, messageId);
    } catch (err) {
      mapStoreError(err);
    }
    if (!message) throw new ApiError('not_found', 'unknown message');
    if (message.author.id !== userId) throw new ApiError('not_author', 'only the author can change a message');
    return message;
  }

  /** message.update: confirmed durable write; resolves with the message as it will read once applied. */
  async editMessage(userId: string, channelId: string, messageId: string, rawContent: string): Promise<Message> {
    const message = await this.#requireAuthor(channelId, messageId, userId);
    const content = checkContent(rawContent, this.#o.maxContentLength);
    const id = await this.#o.ids.next();
    try {
      await this.#o.router.durableWrite({
        v: 1,
        type: 'message.update',
        id,
        message_id: messageId,
        channel_id: channelId,
        author_id: userId,
        content,
      });
    } catch (err) {
      this.#mapWriteError(err);
    }
    return { ...message, content, edited_timestamp: new Date(parseSnowflake(id).timestampMs).toISOString() };
  }

  async deleteMessage(userId: string, channelId: string, messageId: string): Promise<void> {
    await this.#requireAuthor(channelId, messageId, userId);
    const id = await this.#o.ids.next();
    try {
      await this.#o.router.durableWrite({
        v: 1,
        type: 'message.delete',
        id,
        message_id: messageId,
        channel_id: channelId,
        author_id: userId,
      });
    } catch (err) {
      this.#mapWriteError(err);
    }
  }

  /** typing.start: ephemeral, at most once, to the channel's members. */
  async typing(author: Author, channelId: string): Promise<void> {
    await this.requireMember(channelId, author.id);
    const membership = await this.#o.store.channels.membership(channelId);
    const env: DispatchEnvelope = {
      v: 1,
      type: 'dispatch',
      event: 'TYPING_START',
      channel_id: channelId,
      data: {
        channel_id: channelId,
        user_id: author.id,
        username: author.username,
        timestamp: Math.floor(Date.now() / 1000),
      },
    };
    await this.#o.router
      .dispatch(env, dispatchToMembers(this.#o.router.options, membership), { waitMs: 0 })
      .catch((err: unknown) => this.#o.logger.debug({ err: (err as Error).message }, 'typing event dropped'));
  }

  async history(
    userId: string,
    channelId: string,
    q: { before?: string; after?: string; limit?: number },
  ): Promise<Message[]> {
    await this.requireMember(channelId, userId);
    const limit = q.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw new ApiError('invalid_request', 'limit must be 1-100');
    try {
      return await this.#o.store.messages.history(channelId, { before: q.before, after: q.after, limit });
    } catch (err) {
      mapStoreError(err);
    }
  }

  /**
   * Full-text search over the caller's channels (or one of them: `not_a_member` otherwise, as history
   * answers): messages holding every word of `q`, newest first. Bounds (invalid_request): `q` of
   * 1..200 code points holding 1..10 distinct words, `limit` 1..50 (default 25). Reads only; no side effects.
   */
  async search(
    userId: string,
    q: { q: string; channelId?: string; before?: string; limit?: number },
  ): Promise<Message[]> {
    const terms = checkSearch(q.q);
    const limit = q.limit ?? SEARCH_LIMITS.limit.default;
    if (!Number.isInteger(limit) || limit < SEARCH_LIMITS.limit.min || limit > SEARCH_LIMITS.limit.max)
      throw new ApiError('invalid_request', `limit must be ${SEARCH_LIMITS.limit.min}-${SEARCH_LIMITS.limit.max}`);
    if (q.channelId !== undefined) await this.requireMember(q.channelId, userId);
    try {
      const channels = q.channelId !== undefined ? [q.channelId] : await this.#o.store.channels.channelIdsOf(userId);
      return await this.#o.store.search.search(channels, { terms, before: q.before, limit });
    } catch (err) {
      mapStoreError(err);
    }
  }

  async createChannel(
    creator: Author,
    kind: unknown,
    name: string | undefined,
    recipients: string[],
    invite?: string,
  ): Promise<Channel> {
    if (invite !== undefined && (kind !== 'group' || (invite !== 'owner' && invite !== 'members'))) {
      throw new ApiError('invalid_request', 'invite is "owner" or "members", for groups only');
    }
    if (kind !== 'dm' && kind !== 'group') throw new ApiError('invalid_request', 'kind must be "dm" or "group"');
    if (recipients.length > 100) throw new ApiError('invalid_request', 'at most 100 recipients');
    const unique = [...new Set(recipients)].filter((r) => r !== creator.id);
    const known = await this.#o.store.accounts.getMany(unique);
    if (known.length !== unique.length) throw new ApiError('not_found', 'unknown user in recipients');
    if (kind === 'group') {
      if (1 + unique.length > this.#maxGroupMembers) {
        throw new ApiError('limit_reached', `a group has at most ${this.#maxGroupMembers} members`);
      }
      for (const u of [creator.id, ...unique]) await this.#requireGroupRoom(u);
    }
    let result: Awaited<ReturnType<Store['channels']['create']>>;
    try {
      result = await this.#o.store.channels.create({
        id: await this.#o.ids.next(),
        kind,
        name,
        creatorId: creator.id,
        recipients: unique,
        invite: invite as 'owner' | 'members' | undefined,
      });
    } catch (err) {
      mapStoreError(err);
    }
    await this.#o.announce('CHANNEL_CREATE', result.members, { ...result.channel, member_ids: result.members });
    return result.channel;
  }

  /**
   * Adds a member to a group: only its owner may, or any member when the owner created it with
   * `invite: "members"` (nobody adds anyone to the default group: users join
   * it at sign-up), within the caps on members per group and groups per user. The caps are checked
   * before the write, so adds racing on one group or user can pass a cap by the number in flight.
   */
  async addMember(actorId: string, channelId: string, userId: string): Promise<void> {
    await this.requireMember(channelId, actorId);
    const channel = await this.#o.store.channels.get(channelId);
    if (!channel) throw new ApiError('not_found', 'unknown channel');
    if (channel.kind === 'dm') throw new ApiError('invalid_request', 'members of a DM cannot change');
    if (channel.owner_id !== actorId && channel.invite !== 'members') {
      throw new ApiError('forbidden', "only the group's owner adds members (unless it lets every member)");
    }
    if (!(await this.#o.store.accounts.get(userId))) throw new ApiError('not_found', 'unknown user');
    if ((await this.#o.store.channels.memberCount(channelId, this.#maxGroupMembers)) >= this.#maxGroupMembers) {
      throw new ApiError('limit_reached', `a group has at most ${this.#maxGroupMembers} members`);
    }
    await this.#requireGroupRoom(userId);
    await this.#join(channelId, userId, channel);
  }

  get #maxGroupMembers(): number {
    return this.#o.maxGroupMembers ?? 1000;
  }

  /** The user may join one more group. */
  async #requireGroupRoom(userId: string): Promise<void> {
    const cap = this.#o.maxGroupsPerUser ?? 100;
    if ((await this.#o.store.channels.groupCount(userId)) >= cap) {
      throw new ApiError('limit_reached', `user ${userId} is in ${cap} groups already, the most one user may be in`);
    }
  }

  async removeMember(actorId: string, channelId: string, userId: string): Promise<void> {
    await this.requireMember(channelId, actorId);
    const channel = await this.#o.store.channels.get(channelId);
    if (!channel) throw new ApiError('not_found', 'unknown channel');
    if (channel.kind === 'dm') throw new ApiError('invalid_request', 'members of a DM cannot change');
    if (actorId !== userId && channel.owner_id !== actorId) {
      throw new ApiError('forbidden', 'only the owner can remove other members');
    }
    const before = await this.#o.store.channels.members(channelId);
    if (!before.includes(userId)) throw new ApiError('not_found', 'not a member');
    await this.#o.store.channels.removeMember(channelId, userId);
    // Read state is bounded by membership: a leaver's position (acked and as an author) goes with them.
    await Promise.all([
      this.#o.store.readStates.forget(userId, channelId),
      this.#o.store.counts.forgetAuthor(channelId, userId),
    ]);
    const audience = before.length <= ANNOUNCE_LIMIT ? before : [userId];
    await this.#o.announce('CHANNEL_MEMBER_REMOVE', audience, { channel_id: channelId, user_id: userId });
  }

  async #join(channelId: string, userId: string, known?: Channel): Promise<void> {
    const added = await this.#o.store.channels.addMember(channelId, userId);
    if (!added) return;
    const channel = known ?? (await this.#o.store.channels.get(channelId));
    // A big channel (the default group) is not read: its members hear of joins when they read it.
    const big = (await this.#o.store.channels.memberCount(channelId, ANNOUNCE_LIMIT + 1)) > ANNOUNCE_LIMIT;
    const audience = big ? [userId] : await this.#o.store.channels.members(channelId);
    await this.#o.announce('CHANNEL_MEMBER_ADD', audience, { channel_id: channelId, user_id: userId, channel });
  }
}
