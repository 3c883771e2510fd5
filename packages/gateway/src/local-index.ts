// Which local sockets hear what: channel → connections and user → connections, and the delivery
// of one dispatch to its local audience with the backpressure policy of DESIGN.md §6.
//
// Why not uWS topics: a topic publish sends identical bytes to every subscriber, but PROTOCOL.md §5
// gives every DISPATCH frame a per-connection sequence `s`, and DESIGN.md §6 treats a slow socket
// differently for ephemeral events (skipped) and chat events (kept, then 4008). So the payload is
// serialised once per event and framed per socket here.
import { dispatchFrame, EPHEMERAL_EVENTS } from './protocol.js';

/** What the index needs of a connection (implemented by the session). */
export interface Member {
  readonly userId: string;
  readonly channels: Set<string>;
  /** Delivers one framed event; the member decides about backpressure and buffering. */
  deliver(event: string, payloadJson: string, dedupeKey: string | undefined): void;
}

export class LocalIndex {
  readonly #byChannel = new Map<string, Set<Member>>();
  readonly #byUser = new Map<string, Set<Member>>();

  get users(): number {
    return this.#byUser.size;
  }

  add(member: Member, channelIds: Iterable<string>): void {
    const set = this.#byUser.get(member.userId) ?? new Set<Member>();
    this.#byUser.set(member.userId, set);
    set.add(member);
    for (const c of channelIds) this.subscribe(member, c);
  }

  remove(member: Member): void {
    for (const c of member.channels) this.#unlink(this.#byChannel, c, member);
    member.channels.clear();
    this.#unlink(this.#byUser, member.userId, member);
  }

  subscribe(member: Member, channelId: string): void {
    member.channels.add(channelId);
    const set = this.#byChannel.get(channelId) ?? new Set<Member>();
    this.#byChannel.set(channelId, set);
    set.add(member);
  }

  unsubscribe(member: Member, channelId: string): void {
    member.channels.delete(channelId);
    this.#unlink(this.#byChannel, channelId, member);
  }

  membersOfUser(userId: string): Iterable<Member> {
    return this.#byUser.get(userId) ?? [];
  }

  /** Local connections of the channel's members; empty when nobody here is in it. */
  membersOfChannel(channelId: string): Iterable<Member> {
    return this.#byChannel.get(channelId) ?? [];
  }

  #unlink(map: Map<string, Set<Member>>, key: string, member: Member): void {
    const set = map.get(key);
    if (!set) return;
    set.delete(member);
    if (set.size === 0) map.delete(key);
  }
}

export { dispatchFrame, EPHEMERAL_EVENTS };
