// Learns the members of a user's DMs right after IDENTIFY or RESUME read the user's channels, in the
// background and one query per turn of the event loop, so that the user's first send in each DM is
// checked from memory (store `channels.learnDms`). Why: a client that has just connected sends in its
// DMs next, and without presence each DM's first send at a gateway waited for a Redis read and three
// MongoDB queries; with presence, IDENTIFY's audience read learned the DMs one at a time (two queries
// each). Measured (bench/results/cold-start-2026-12-03.md): within the spread of w1's cold start, whose
// cliff was a GC pause (idle-gc.ts). What a warm-up costs: one members query per batch of up to
// `maxBatch` DMs not yet known; nothing for DMs this process already knows.
import type { Channel, Store } from '@chat/store';
import { READ_BATCH_MAX } from './batched-reads.js';
import { TickBatcher } from './tick-batcher.js';

/** Returns the function to call with a user's channels; it never throws and never waits. */
export function dmWarmup(
  channels: Pick<Store['channels'], 'learnDms'> & { dmMemberships: Pick<Store['channels']['dmMemberships'], 'knows'> },
  maxBatch = READ_BATCH_MAX,
): (list: readonly Pick<Channel, 'id' | 'kind'>[]) => void {
  const batcher = new TickBatcher<string, true>({
    load: async (ids) => {
      await channels.learnDms(ids.map((id) => ({ id, kind: 'dm' as const })));
      return new Map();
    },
    missing: true,
    maxBatch,
  });
  return (list) => {
    // A DM already known costs nothing here (a warm gateway's reconnect storm: no batch entry per DM).
    for (const c of list) {
      if (c.kind === 'dm' && !channels.dmMemberships.knows(c.id)) batcher.get(c.id).catch(() => {});
    }
  };
}
