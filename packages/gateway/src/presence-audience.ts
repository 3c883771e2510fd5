// Who hears a user's presence (Discord-style): the other member of each of its DMs and the members of
// its small groups. A group with more than `maxGroupMembers` members adds nobody (its members would
// otherwise hear every member come and go), and the audience is cut at `maxAudience` users: DM
// partners first, then small groups in the order given.
import type { Channel, Store } from '@chat/store';

/** DM memberships read at once. */
const DM_READS = 32;

export interface AudienceLimits {
  /** Groups with more members than this add nobody; 0: DMs only. */
  maxGroupMembers: number;
  /** At most this many users hear one user's presence. */
  maxAudience: number;
}

/** The users (never `userId` itself) who hear `userId`'s presence, given the channels it is a member of. */
export async function presenceAudience(
  channels: Pick<Store['channels'], 'membership' | 'memberCount'>,
  userId: string,
  memberOf: readonly Pick<Channel, 'id' | 'kind'>[],
  limits: AudienceLimits,
): Promise<string[]> {
  const audience = new Set<string>();
  const add = (members: readonly string[]): boolean => {
    for (const m of members) {
      if (m === userId || audience.has(m)) continue;
      if (audience.size >= limits.maxAudience) return false;
      audience.add(m);
    }
    return true;
  };
  // DMs read a few at a time (memory or one Redis read each), in the order given.
  const dms = memberOf.filter((c) => c.kind === 'dm');
  for (let i = 0; i < dms.length; i += DM_READS) {
    const read = await Promise.all(dms.slice(i, i + DM_READS).map((c) => channels.membership(c.id)));
    for (const m of read) if (!add(m.members)) return [...audience];
  }
  if (limits.maxGroupMembers === 0) return [...audience];
  for (const c of memberOf) {
    if (c.kind !== 'group') continue;
    // Counted no further than the limit: a big group (the default one) costs one bounded count.
    if ((await channels.memberCount(c.id, limits.maxGroupMembers + 1)) > limits.maxGroupMembers) continue;
    if (!add((await channels.membership(c.id)).members)) break;
  }
  return [...audience];
}
