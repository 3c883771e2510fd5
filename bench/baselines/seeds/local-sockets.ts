// This server's identified sockets by user, and local fan-out of MESSAGE_CREATE to them: the
// `LocalDelivery` every routing delivers into. Only sockets that have been sent READY are here.
import type { Membership } from './membership.js';
import type { LocalDelivery } from './routing.js';

export interface LocalSocket {
  /** Sends a DISPATCH frame around an already serialised payload. */
  dispatch(event: string, payloadJson: string): void;
}

export class LocalSockets implements LocalDelivery {
  readonly #membership: Membership;
  readonly #byUser = new Map<string, Set<LocalSocket>>();

  constructor(membership: Membership) {
    this.#membership = membership;
  }

  add(userId: string, socket: LocalSocket): void {
    const set = this.#byUser.get(userId);
    if (set) set.add(socket);
    else this.#byUser.set(userId, new Set([socket]));
  }

  remove(userId: string, socket: LocalSocket): void {
    const set = this.#byUser.get(userId);
    if (!set) return;
    set.delete(socket);
    if (set.size === 0) this.#byUser.delete(userId);
  }

  toChannel(channelId: string, payloadJson: string): void {
    for (const user of this.#membership.members(channelId)) this.toUser(user, payloadJson);
  }

  toUser(userId: string, payloadJson: string): void {
    const set = this.#byUser.get(userId);
    if (set) for (const socket of set) socket.dispatch('MESSAGE_CREATE', payloadJson);
  }
}
