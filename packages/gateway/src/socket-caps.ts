// Caps on WebSocket connections per client address, per gateway process: sockets not yet identified
// and identified sockets (high, for carrier and office NAT), both refused at the upgrade. (The cap per
// user is the session's, on the local index's own count.) Guarantees: every count is released exactly
// once when its socket closes, and an address with no socket has no entry (the map never holds more
// entries than there are open sockets).

/** One address's open sockets; a session keeps a reference to release it. */
export interface AddressSlot {
  readonly address: string;
  pending: number;
  identified: number;
}

export interface SocketCapLimits {
  maxPendingPerAddress: number;
  maxIdentifiedPerAddress: number;
}

export class SocketCaps {
  readonly #limits: SocketCapLimits;
  readonly #addresses = new Map<string, AddressSlot>();

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

  /** The socket identified: it moves from its address's pending count to the identified one. */
  identified(slot: AddressSlot): void {
    slot.pending--;
    slot.identified++;
  }

  /** The socket closed; `identified`: whether identified() was called for it. */
  close(slot: AddressSlot, identified: boolean): void {
    if (identified) slot.identified--;
    else slot.pending--;
    if (slot.pending <= 0 && slot.identified <= 0) this.#addresses.delete(slot.address);
  }
}
