// Read state for the gateway (docs/protocol.md §4, "Read state"): channels with the caller's unread
// counts (READY, GET /users/@me/channels) and acks (read.ack, POST /channels/{id}/ack), which move the
// caller's read position forward and tell the caller's other sessions with an ACK event. A position is
// the later of the caller's ack (store ReadStates) and their own newest message (store MessageCounts).
import type { AckPayload, ChannelWithReadState, Logger } from '@chat/protocol';
import type { Router } from '@chat/router';
import { type Channel, later, type Store, unreadCount } from '@chat/store';
import { ApiError } from './errors.js';

export interface ReadStateServiceOptions {
  store: Pick<Store, 'counts' | 'readStates' | 'channels'>;
  router: Pick<Router, 'dispatch'>;
  /** `not_a_member` (ApiError) unless the user is a member of the channel. */
  requireMember(channelId: string, userId: string): Promise<void>;
  logger: Logger;
}

/** A store channel with the caller's read state. */
export type ChannelWithUnread = Channel & ChannelWithReadState;

export class ReadStateService {
  readonly #o: ReadStateServiceOptions;

  constructor(options: ReadStateServiceOptions) {
    this.#o = options;
  }

  /** The user's channels, each with its unread count, read position and newest message: three queries. */
  async channelsOf(userId: string): Promise<ChannelWithUnread[]> {
    const { store } = this.#o;
    let channels: Channel[];
    try {
      channels = await store.channels.listForUser(userId);
    } catch (err) {
      throw new ApiError('unavailable', 'a dependency failed; retry', { cause: err });
    }
    return this.withReadState(userId, channels);
  }

  /** `channels` (the user's) with the user's read state in each. */
  async withReadState(userId: string, channels: Channel[]): Promise<ChannelWithUnread[]> {
    const ids = channels.map((c) => c.id);
    let counts: Awaited<ReturnType<Store['counts']['countsFor']>>;
    let reads: Awaited<ReturnType<Store['readStates']['of']>>;
    try {
      [counts, reads] = await Promise.all([
        this.#o.store.counts.countsFor(userId, ids),
        this.#o.store.readStates.of(userId, ids),
      ]);
    } catch (err) {
      throw new ApiError('unavailable', 'a dependency failed; retry', { cause: err });
    }
    return channels.map((c) => {
      const count = counts.get(c.id);
      const read = later(reads.get(c.id), count?.own);
      return {
        ...c,
        unread_count: unreadCount(count?.count ?? 0, read?.n ?? 0),
        last_read_id: read?.last_read_id ?? null,
        last_message_id: count?.last_message_id ?? null,
      };
    });
  }

  /**
   * Marks the channel read up to `messageId` for the user: members only (`not_a_member`), a message of
   * the channel (`not_found`; a deleted one counts, so its unread can be cleared). Never backwards: an
   * older ack answers the current position. When the position moved, the user's sessions but
   * `sessionId` (the acking one; absent over HTTP: all of them) get ACK — at most once, best effort: a
   * session that misses it reads the position in its next READY.
   */
  async ack(userId: string, channelId: string, messageId: string, sessionId?: string): Promise<AckPayload> {
    await this.#o.requireMember(channelId, userId);
    const { counts, readStates } = this.#o.store;
    let result: AckPayload;
    let moved: boolean;
    try {
      const n = await counts.ordinalOf(channelId, messageId);
      if (n === null) throw new ApiError('not_found', 'unknown message');
      const advanced = await readStates.advance(userId, channelId, n, messageId);
      const [count, acked] = await Promise.all([
        counts.countsFor(userId, [channelId]).then((m) => m.get(channelId)),
        readStates.get(userId, channelId),
      ]);
      const read = later(acked, count?.own);
      // The position moved only if the ack passed the caller's own newest message too.
      moved = advanced && (count?.own?.n ?? 0) < n;
      result = {
        channel_id: channelId,
        message_id: read?.last_read_id ?? messageId,
        unread_count: unreadCount(count?.count ?? 0, read?.n ?? n),
      };
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError('unavailable', 'a dependency failed; retry', { cause: err });
    }
    if (moved) {
      await this.#o.router
        .dispatch(
          {
            v: 1,
            type: 'dispatch',
            event: 'ACK',
            to: [userId],
            data: result,
            ...(sessionId ? { skip_session: sessionId } : {}),
          },
          { users: [userId] },
          { waitMs: 0 },
        )
        .catch((err: unknown) => this.#o.logger.debug({ err: (err as Error).message }, 'ACK event dropped'));
    }
    return result;
  }
}
