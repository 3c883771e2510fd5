// Channels and their members: the source of truth for membership (Redis only caches it).
import { slotOf } from '@chat/protocol';
import type { Collection, MongoServerError } from 'mongodb';
import { DmMemberships, type LearnedChannel, type Membership } from './dm-memberships.js';
import { NotFoundError, ValidationError } from './errors.js';
import type { MembershipCache } from './membership-cache.js';
import type { Channel, ChannelDoc, ChannelKind, MemberDoc } from './types.js';

export function toChannel(doc: ChannelDoc): Channel {
  return {
    id: doc._id,
    kind: doc.kind,
    name: doc.name,
    owner_id: doc.owner_id,
    created_at: doc.created_at.toISOString(),
    ...(doc.invite === 'members' ? { invite: 'members' as const } : {}),
  };
}

/** A DM's `dm_key`: the pair's ids, sorted, joined by ':' (unique: one DM per pair). */
function dmKeyOf(a: string, b: string): string {
  return [a, b].sort().join(':');
}

/**
 * A DM's two members, read back from its `dm_key` (dmKeyOf), which is written with the channel and never
 * changes, as a DM's members never do; undefined when the key is not a pair.
 */
function dmPairOf(doc: Pick<ChannelDoc, 'dm_key'>): [string, string] | undefined {
  const pair = doc.dm_key?.split(':');
  return pair?.length === 2 && pair[0] && pair[1] ? [pair[0], pair[1]] : undefined;
}

export interface NewChannel {
  id: string;
  kind: ChannelKind;
  name?: string | null | undefined;
  creatorId: string;
  /** Other initial members. A DM has exactly one. */
  recipients?: readonly string[] | undefined;
  /** Groups: who may add members, the owner only (default) or every member. */
  invite?: 'owner' | 'members' | undefined;
}

export class Channels {
  readonly #channels: Collection<ChannelDoc>;
  readonly #members: Collection<MemberDoc>;
  readonly #cache: MembershipCache | undefined;
  readonly #slots: number;
  readonly #dms: DmMemberships;

  /** `dmChannels`: how many channels' kinds (and DMs' members) this process remembers (dm-memberships.ts). */
  constructor(
    channels: Collection<ChannelDoc>,
    members: Collection<MemberDoc>,
    cache: MembershipCache | undefined,
    slots: number,
    dmChannels = 50_000,
  ) {
    this.#channels = channels;
    this.#members = members;
    this.#cache = cache;
    this.#slots = slots;
    this.#dms = new DmMemberships(dmChannels);
  }

  /** The DM memberships this process answers locally (tests and metrics). */
  get dmMemberships(): DmMemberships {
    return this.#dms;
  }

  async createIndexes(): Promise<void> {
    await this.#members.createIndex({ channel_id: 1, user_id: 1 }, { unique: true, name: 'channel_user_unique' });
    await this.#members.createIndex({ user_id: 1, channel_id: 1 }, { name: 'user_channels' });
    await this.#channels.createIndex({ dm_key: 1 }, { unique: true, sparse: true, name: 'dm_pair_unique' });
    await this.#channels.createIndex({ kind: 1, name: 1 }, { name: 'kind_name' });
  }

  /**
   * Creates a channel with its creator and recipients as members. A DM between two users exists
   * once: creating it again returns the existing one (`created: false`).
   */
  async create(c: NewChannel): Promise<{ channel: Channel; created: boolean; members: string[] }> {
    const recipients = [...new Set(c.recipients ?? [])].filter((u) => u !== c.creatorId);
    const name = c.name ?? null;
    if (c.kind !== 'dm' && c.kind !== 'group') throw new ValidationError('kind must be "dm" or "group"');
    if (name !== null && (typeof name !== 'string' || name.trim().length === 0 || [...name].length > 100)) {
      throw new ValidationError('name must be 1-100 characters');
    }
    if (c.kind === 'dm' && recipients.length !== 1) throw new ValidationError('a DM has exactly one recipient');
    if (c.invite !== undefined && (c.kind !== 'group' || (c.invite !== 'owner' && c.invite !== 'members'))) {
      throw new ValidationError('invite is "owner" or "members", for groups only');
    }
    const doc: ChannelDoc = {
      _id: c.id,
      kind: c.kind,
      name: c.kind === 'dm' ? null : (name?.trim() ?? null),
      owner_id: c.kind === 'dm' ? null : c.creatorId,
      created_at: new Date(),
    };
    if (c.kind === 'dm') doc.dm_key = dmKeyOf(c.creatorId, recipients[0]!);
    if (c.invite === 'members') doc.invite = 'members';
    try {
      await this.#channels.insertOne(doc);
    } catch (err) {
      if ((err as MongoServerError).code === 11000 && doc.dm_key) {
        const existing = await this.#channels.findOne({ dm_key: doc.dm_key });
        if (existing) {
          // The pair's DM exists; make sure both are (still) members.
          const members = [c.creatorId, recipients[0]!];
          for (const u of members) await this.addMember(existing._id, u);
          return { channel: toChannel(existing), created: false, members };
        }
      }
      throw err;
    }
    const members = [c.creatorId, ...recipients];
    for (const u of members) await this.addMember(doc._id, u);
    return { channel: toChannel(doc), created: true, members };
  }

  async get(id: string): Promise<Channel | null> {
    const doc = await this.#channels.findOne({ _id: id });
    return doc ? toChannel(doc) : null;
  }

  /** The group with this name (for the default group every new user joins), or null. */
  async findGroupByName(name: string): Promise<Channel | null> {
    const doc = await this.#channels.findOne({ kind: 'group', name });
    return doc ? toChannel(doc) : null;
  }

  /**
   * Adds a member; resolves with false when the user already was one (idempotent). The cached member
   * set, when filled, gains the member in place (`MembershipCache.added`) instead of being dropped.
   */
  async addMember(channelId: string, userId: string): Promise<boolean> {
    if (!(await this.#channels.findOne({ _id: channelId }, { projection: { _id: 1 } }))) {
      throw new NotFoundError(`channel ${channelId} does not exist`);
    }
    const res = await this.#members.updateOne(
      { channel_id: channelId, user_id: userId },
      { $setOnInsert: { channel_id: channelId, user_id: userId, joined_at: new Date() } },
      { upsert: true },
    );
    const added = res.upsertedCount === 1;
    if (added) await this.#cache?.added(channelId, userId, slotOf(userId, this.#slots));
    return added;
  }

  /**
   * Removes a member of a group; resolves with false when the user was not one. Invalidates the cache.
   * A DM's members never change (processes answer DM membership from memory): ValidationError.
   */
  async removeMember(channelId: string, userId: string): Promise<boolean> {
    const channel = await this.#channels.findOne({ _id: channelId }, { projection: { kind: 1 } });
    if (channel?.kind === 'dm') throw new ValidationError('members of a DM cannot change');
    const res = await this.#members.deleteOne({ channel_id: channelId, user_id: userId });
    const removed = res.deletedCount === 1;
    if (removed) await this.#cache?.invalidate(channelId);
    return removed;
  }

  /** Channels the user is a member of, oldest first. */
  async listForUser(userId: string): Promise<Channel[]> {
    const ids = await this.channelIdsOf(userId);
    if (ids.length === 0) return [];
    const docs = await this.#channels
      .find({ _id: { $in: ids } })
      .sort({ created_at: 1, _id: 1 })
      .toArray();
    return docs.map(toChannel);
  }

  /**
   * listForUser() of several users in two queries (their memberships, then the channels): each user's
   * channels in the same order as listForUser gives them; a user with none maps to [].
   */
  async listForUsers(userIds: readonly string[]): Promise<Map<string, Channel[]>> {
    const out = new Map<string, Channel[]>(userIds.map((u) => [u, []]));
    if (userIds.length === 0) return out;
    const rows = await this.#members
      .find({ user_id: { $in: [...userIds] } }, { projection: { user_id: 1, channel_id: 1, _id: 0 } })
      .toArray();
    if (rows.length === 0) return out;
    const memberOf = new Map<string, string[]>();
    for (const r of rows) {
      const list = memberOf.get(r.channel_id) ?? [];
      memberOf.set(r.channel_id, list);
      list.push(r.user_id);
    }
    const docs = await this.#channels
      .find({ _id: { $in: [...memberOf.keys()] } })
      .sort({ created_at: 1, _id: 1 })
      .toArray();
    for (const doc of docs) {
      const channel = toChannel(doc);
      for (const u of memberOf.get(doc._id) ?? []) out.get(u)?.push(channel);
    }
    return out;
  }

  /**
   * Member ids and their slots: a DM this process knows from memory, anything else through the Redis
   * cache when there is one (MongoDB otherwise). The arrays are shared: do not modify them.
   */
  async membership(channelId: string): Promise<Membership> {
    const dm = this.#dms.get(channelId);
    if (dm) return dm;
    this.#learn(channelId);
    const load = () => this.#load(channelId);
    if (!this.#cache) return load();
    const { members, slots } = await this.#cache.get(channelId, load);
    return { members, slots };
  }

  /**
   * The memberships of several channels, the same answers as `membership` per channel once each DM is
   * learnt (a DM's is its pair, even before its second member's document is stored), with fewer round
   * trips: DMs this process knows come from memory; channels of unknown kind are looked up together in
   * one query, which gives each DM's pair with its kind (`dmPairOf`), and the DMs are then remembered;
   * every other channel (groups, unknown ids) goes through `membership`.
   * Why: a persister's first batches after a start touch hundreds of DMs it has never seen, and each
   * cost three queries one by one (a kind, and the members twice) — the cold-start cliff of issue #8.
   */
  async membershipMany(channelIds: Iterable<string>): Promise<Map<string, Membership>> {
    const out = new Map<string, Membership>();
    const unknown: string[] = [];
    const rest: string[] = [];
    for (const id of new Set(channelIds)) {
      const dm = this.#dms.get(id);
      if (dm) out.set(id, dm);
      else if (this.#dms.enabled && !this.#dms.knows(id)) unknown.push(id);
      else rest.push(id);
    }
    if (unknown.length > 0) {
      for (const [id, learned] of await this.#readLearned(unknown)) {
        this.#dms.remember(id, learned);
        if (learned?.kind === 'dm') out.set(id, learned.membership);
      }
      for (const id of unknown) if (!out.has(id)) rest.push(id);
    }
    const answers = await Promise.all(rest.map((id) => this.membership(id)));
    for (const [i, id] of rest.entries()) out.set(id, answers[i]!);
    return out;
  }

  /**
   * Learns the members of these DMs, the ones this process does not know yet, in one query: from then
   * on `isMember` and `membership` answer them from memory. For a caller that just read a user's
   * channels (IDENTIFY, RESUME) and expects sends in them next: without it, each DM's first send
   * waits for a Redis read and three MongoDB queries at the gateway that takes it. `channels` as this
   * store gave them (their `kind` is trusted); those not DMs are skipped, and each DM is learnt as the
   * pair its `dm_key` names (`dmPairOf`). Resolves when done; never rejects (a failure only leaves the
   * channels to be learned on first use).
   */
  async learnDms(channels: Iterable<Pick<Channel, 'id' | 'kind'>>): Promise<void> {
    const dmIds: string[] = [];
    for (const c of channels) if (c.kind === 'dm') dmIds.push(c.id);
    await this.#dms.learnMany(dmIds, (ids) => this.#readLearned(ids));
  }

  async #load(channelId: string): Promise<Membership> {
    const rows = await this.#members.find({ channel_id: channelId }, { projection: { user_id: 1, _id: 0 } }).toArray();
    return this.#membershipOf(rows.map((r) => r.user_id));
  }

  /** The members and the distinct slots they fall in. */
  #membershipOf(members: string[]): Membership {
    return { members, slots: [...new Set(members.map((m) => slotOf(m, this.#slots)))] };
  }

  /** Starts learning the channel's kind (and a DM's members) in the background, once per channel. */
  #learn(channelId: string): void {
    this.#dms.learn(channelId, async () => (await this.#readLearned([channelId])).get(channelId) ?? null);
  }

  /** What these channels' documents say of their memberships (#learned), in one query; absent ids are left out. */
  async #readLearned(channelIds: string[]): Promise<Map<string, LearnedChannel>> {
    const docs = await this.#channels
      .find({ _id: { $in: channelIds } }, { projection: { kind: 1, dm_key: 1 } })
      .toArray();
    return new Map(docs.map((doc) => [doc._id, this.#learned(doc)]));
  }

  /**
   * What a channel document says of its membership: a DM's members are its pair, for good; any other
   * channel's may change. Null for a DM whose `dm_key` is not a pair (none is stored so): not learned.
   */
  #learned(doc: Pick<ChannelDoc, 'kind' | 'dm_key'>): LearnedChannel {
    if (doc.kind !== 'dm') return { kind: 'other' };
    const pair = dmPairOf(doc);
    return pair ? { kind: 'dm', membership: this.#membershipOf(pair) } : null;
  }

  /** How many members a channel has, counting no further than `upTo` (bounded work on big channels). */
  async memberCount(channelId: string, upTo: number): Promise<number> {
    return this.#members.countDocuments({ channel_id: channelId }, { limit: upTo });
  }

  /** How many groups (not DMs) the user is a member of. */
  async groupCount(userId: string): Promise<number> {
    const rows = await this.#members.find({ user_id: userId }, { projection: { channel_id: 1, _id: 0 } }).toArray();
    if (rows.length === 0) return 0;
    return this.#channels.countDocuments({ _id: { $in: rows.map((r) => r.channel_id) }, kind: 'group' });
  }

  async members(channelId: string): Promise<string[]> {
    return (await this.membership(channelId)).members;
  }

  /** Whether the user is a member: a known DM from memory, anything else through the cache or MongoDB. */
  async isMember(channelId: string, userId: string): Promise<boolean> {
    const dm = this.#dms.get(channelId);
    if (dm) return dm.members.includes(userId);
    this.#learn(channelId);
    const load = async () =>
      (await this.#members.findOne({ channel_id: channelId, user_id: userId }, { projection: { _id: 1 } })) !== null;
    return this.#cache ? this.#cache.has(channelId, userId, load) : load();
  }

  /** The ids of the channels the user is a member of (MongoDB, through the `user_channels` index). */
  async channelIdsOf(userId: string): Promise<string[]> {
    const rows = await this.#members.find({ user_id: userId }, { projection: { channel_id: 1, _id: 0 } }).toArray();
    return rows.map((r) => r.channel_id);
  }
}
