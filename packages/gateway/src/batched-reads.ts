// The store reads every IDENTIFY/RESUME makes, batched per turn of the event loop (tick-batcher.ts):
// token versions (revocation, also every authenticated HTTP request), a RESUME's channels, and RESUME
// replays. In a reconnect storm thousands of sockets arrive within a second: one query per batch of
// users and one read per distinct replay instead of one of each per socket (W4, bench/results/
// w4-profile-2026-12-02.md). Each read still starts after its caller asked, so it is as fresh as an
// unbatched one: a revocation that finished before the call is seen, and a replay read follows the
// caller's attach (the gapless RESUME of docs/protocol.md §5.6).
import type { ChangeEvent, Channel, Store } from '@chat/store';
import { TickBatcher } from './tick-batcher.js';

/** Distinct users (or replays) per store query at most. */
export const READ_BATCH_MAX = 256;

export interface BatchedReads {
  /** The user's current token version; null for an unknown user. */
  tokenVersion(userId: string): Promise<number | null>;
  /** The user's channels without read state (what a RESUME needs). */
  memberChannels(userId: string): Promise<Channel[]>;
  /** store.messages.changesSince; callers asking for the same channels, `since` and cap in one turn share one read. */
  changesSince(
    channelIds: readonly string[],
    since: string,
    cap: number,
  ): Promise<{ events: ChangeEvent[]; truncated: boolean }>;
}

type Replay = { events: ChangeEvent[]; truncated: boolean };

export function batchedReads(
  store: {
    accounts: Pick<Store['accounts'], 'tokenVersions'>;
    channels: Pick<Store['channels'], 'listForUsers'>;
    messages: Pick<Store['messages'], 'changesSince'>;
  },
  maxBatch = READ_BATCH_MAX,
): BatchedReads {
  const versions = new TickBatcher<string, number | null>({
    load: (ids) => store.accounts.tokenVersions(ids),
    missing: null,
    maxBatch,
  });
  const channels = new TickBatcher<string, Channel[]>({
    load: (ids) => store.channels.listForUsers(ids),
    missing: [],
    maxBatch,
  });
  // Key: cap, since and the sorted channel ids (snowflakes: no separator inside).
  const replays = new TickBatcher<string, Replay>({
    load: async (keys) => {
      const read = await Promise.all(
        keys.map((key) => {
          const [cap, since, ids] = key.split('\n') as [string, string, string];
          return store.messages.changesSince(ids.split(','), since, Number(cap));
        }),
      );
      return new Map(keys.map((k, i) => [k, read[i]!]));
    },
    missing: { events: [], truncated: false },
    maxBatch,
  });
  return {
    tokenVersion: (userId) => versions.get(userId),
    memberChannels: (userId) => channels.get(userId),
    changesSince: (channelIds, since, cap) =>
      channelIds.length === 0
        ? Promise.resolve({ events: [], truncated: false })
        : replays.get(`${cap}\n${since}\n${[...channelIds].sort().join(',')}`),
  };
}
