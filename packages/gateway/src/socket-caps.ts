// Caps on WebSocket connections, per gateway process: sockets not yet identified per client
// address (refused at the upgrade), identified sockets per address (refused at the upgrade; high,
// for carrier and office NAT) and identified sockets per user (the IDENTIFY that would exceed it is
// closed 4008). Guarantees: every count is released exactly once when its socket closes, and an
// address or user with no socket has no entry (the maps never hold more entries than open sockets).

/** One address's open sockets; a session keeps a reference to release it. */
export interface AddressSlot {
  readonly address: string;
  pending: number;
  identified: number;
}

export interface SocketCapLimits {
  maxPendingPerAddress: number;
  maxIdentifiedPerAddress: number;
  maxPerUser: number;
}

export class SocketCaps {
  readonly #limits: SocketCapLimits;
  readonly #addresses = new Map<string, AddressSlot>();
  readonly #users = new Map<string, number>();

  constructor(limits: SocketCapLimits) {
    this.#limits = limits;
  }

  /** Why a new socket from this address is refused, or undefined when it may open. */
  refusal(address: string): string | undefined {
    const slot = this.#addresses.get(address);
    if (!slot) return undefined;
    if (slot.pending >= this.#limits.maxPendingPerAddress) return 'too many unidentified connections from this address';
    if (slot.identified >= this.#limits.maxIdentifiedPerAddress) return 'too many connections from this address';
    return undefined;
  }

  /** Counts a new (not yet identified) socket of an address. */
  open(address: string): AddressSlot {
    let slot = this.#addresses.get(address);
    if (!slot) {
      slot = { address, pending: 0, identified: 0 };
      this.#addresses.set(address, slot);
    }
    slot.pending++;
    return slot;
  }

  /** The socket identified as `userId`; false (nothing counted) when the user has its maximum already. */
  identify(slot: AddressSlot, userId: string): boolean {
    const n = this.#users.get(userId) ?? 0;
    if (n >= this.#limits.maxPerUser) return false;
    this.#users.set(userId, n + 1);
    slot.pending--;
    slot.identified++;
    return true;
  }

  /** The socket closed; `userId` is the user it identified as, or undefined if it never did. */
  close(slot: AddressSlot, userId: string | undefined): void {
    if (userId === undefined) slot.pending--;
    else {
      slot.identified--;
      const n = (this.#users.get(userId) ?? 1) - 1;
      if (n <= 0) this.#users.delete(userId);
      else this.#users.set(userId, n);
    }
    if (slot.pending <= 0 && slot.identified <= 0) this.#addresses.delete(slot.address);
  }
}
