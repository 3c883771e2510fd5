// Which local sockets hear what: the hub (hub.ts) asks it for an envelope's local audience, and each
// socket's session applies the backpressure policy of docs/design.md §6 to what it is given.
//
// Memory (bench W3): subscriptions are kept per USER, not per socket. Every user of this gateway has
// one LocalUser (its sockets and its channels); every channel one Set of LocalUsers. A socket costs
// one slot in its user's socket list, whatever its channels; a user costs one entry in each of its
// channels' sets, so one more member of a big channel (the default group every user joins) costs one
// Set entry, independent of how many members the channel already has here. Channel and user id
// strings are held once (the map keys), not once per socket.
//
// Why not uWS topics: a topic publish sends identical bytes to every subscriber, but docs/protocol.md §5
// gives every DISPATCH frame a per-connection sequence `s`, and docs/design.md §6 treats a slow socket
// differently for ephemeral events (skipped) and chat events (kept, then 4008). So the payload is
// serialised once per event (hub.ts) and framed per socket (session.ts).

/** What the index needs of a connection (implemented by the session). */
export interface Member {
  readonly userId: string;
  /** The session's id, for envelopes that skip one session (`skip_session`). */
  readonly sessionId?: string;
  /** Delivers one framed event; the member decides about backpressure and buffering. */
  deliver(event: string, payloadJson: string, dedupeKey: string | undefined): void;
}

/** One channel with local members. */
class LocalChannel {
  readonly id: string;
  readonly users = new Set<LocalUser>();

  constructor(id: string) {
    this.id = id;
  }
}

/** One user with local sockets: the sockets, and the channels they hear. */
export class LocalUser {
  readonly id: string;
  /** This user's local sockets (usually one). */
  sockets: Member[];
  /** The channels this user's sockets hear (small: a user is in few channels). */
  channels: LocalChannel[] = [];

  constructor(id: string, first: Member) {
    this.id = id;
    this.sockets = [first];
  }
}

export class LocalIndex {
  readonly #byChannel = new Map<string, LocalChannel>();
  readonly #byUser = new Map<string, LocalUser>();

  get users(): number {
    return this.#byUser.size;
  }

  /** Local channels with at least one member here. */
  get channels(): number {
    return this.#byChannel.size;
  }

  /**
   * Adds a socket of `member.userId`, hearing `channelIds` (what the store listed for the user just now)
   * in addition to what the user's other sockets hear. Returns the user's interned id string.
   */
  add(member: Member, channelIds: Iterable<string>): string {
    let user = this.#byUser.get(member.userId);
    if (user) {
      if (!user.sockets.includes(member)) user.sockets = user.sockets.concat(member);
    } else {
      user = new LocalUser(member.userId, member);
      this.#byUser.set(user.id, user);
    }
    const joined: LocalChannel[] = [];
    for (const c of channelIds) {
      const ch = this.#join(user, c);
      if (ch) joined.push(ch);
    }
    // concat: an array of exactly the needed length (push would reserve 16 spare slots per user).
    if (joined.length > 0) user.channels = user.channels.concat(joined);
    return user.id;
  }

  /** Removes a socket; true when it was its user's last socket here (the user left this gateway). */
  remove(member: Member): boolean {
    const user = this.#byUser.get(member.userId);
    if (!user) return false;
    const i = user.sockets.indexOf(member);
    if (i < 0) return false;
    user.sockets.splice(i, 1);
    if (user.sockets.length > 0) return false;
    for (const ch of user.channels) this.#leave(ch, user);
    user.channels = [];
    this.#byUser.delete(user.id);
    return true;
  }

  /** The ids of the users with sockets here. */
  userIds(): IterableIterator<string> {
    return this.#byUser.keys();
  }

  /** The member's user hears the channel (on all its local sockets). */
  subscribe(member: Member, channelId: string): void {
    const user = this.#byUser.get(member.userId);
    if (!user) return;
    const ch = this.#join(user, channelId);
    if (ch) user.channels = user.channels.concat(ch);
  }

  /** The member's user no longer hears the channel (on any of its local sockets). */
  unsubscribe(member: Member, channelId: string): void {
    const user = this.#byUser.get(member.userId);
    if (!user) return;
    const ch = this.#byChannel.get(channelId);
    if (!ch) return;
    const i = user.channels.indexOf(ch);
    if (i < 0) return;
    user.channels.splice(i, 1);
    this.#leave(ch, user);
  }

  /** The channels a user's local sockets hear (ids), empty when none of its sockets is here. */
  channelsOfUser(userId: string): string[] {
    return this.#byUser.get(userId)?.channels.map((c) => c.id) ?? [];
  }

  membersOfUser(userId: string): readonly Member[] {
    return this.#byUser.get(userId)?.sockets ?? [];
  }

  /** Local connections of the channel's members; empty when nobody here is in it. */
  *membersOfChannel(channelId: string): Iterable<Member> {
    const ch = this.#byChannel.get(channelId);
    if (!ch) return;
    for (const user of ch.users) yield* user.sockets;
  }

  /** Adds the user to the channel's set; the channel when it is new to the user (the caller lists it). */
  #join(user: LocalUser, channelId: string): LocalChannel | undefined {
    let ch = this.#byChannel.get(channelId);
    if (!ch) {
      ch = new LocalChannel(channelId);
      this.#byChannel.set(channelId, ch);
    } else if (ch.users.has(user)) {
      return undefined;
    }
    ch.users.add(user);
    return ch;
  }

  #leave(ch: LocalChannel, user: LocalUser): void {
    ch.users.delete(user);
    if (ch.users.size === 0) this.#byChannel.delete(ch.id);
  }
}
