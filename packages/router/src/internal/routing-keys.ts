// Routing keys (docs/protocol.md §1–2): which key a user binds (`s.<slot>` or `u.<userId>`), which
// route exchange carries a key, which keys a dispatch target names, and where a set of keys is
// published. Pure arithmetic over the resolved options: no broker, no state.

import { partitionOf, slotOf } from '@chat/protocol';
import { InvalidArgumentError } from './errors.js';
import type { Granularity, ResolvedRouterOptions } from './options.js';
import type { TopologyNames } from './topology.js';

/** Who receives a dispatch: users (routed by their slot or user key) and/or whole slots. */
export interface DispatchTarget {
  users?: Iterable<string>;
  /** Slot numbers; slot granularity only. */
  slots?: Iterable<number>;
}

/** A channel's audience as the store reports it: member ids and the slots they hash to. */
export interface ChannelMembership {
  readonly members: readonly string[];
  readonly slots: readonly number[];
}

/**
 * The dispatch target that reaches every member of a channel: its slots in slot granularity (one
 * key per slot, however many members share it), its member ids in user granularity. The one place
 * that turns a membership into a target; pass `router.options`.
 */
export function dispatchToMembers(
  options: { readonly granularity: Granularity },
  membership: ChannelMembership,
): DispatchTarget {
  return options.granularity === 'slot' ? { slots: membership.slots } : { users: membership.members };
}

/** One publish of a key set: the exchange, the first key as routing key and the others in `CC`. */
export interface Route {
  exchange: string;
  keys: string[];
}

type RoutingOptions = Pick<ResolvedRouterOptions, 'slots' | 'partitions' | 'granularity'>;

export class RoutingKeys {
  readonly #o: RoutingOptions;
  readonly #names: TopologyNames;

  constructor(options: RoutingOptions, names: TopologyNames) {
    this.#o = options;
    this.#names = names;
  }

  /** The routing key of a user: `s.<slot>` or `u.<userId>` (not checked: see checkedKey). */
  keyOf(userId: string): string {
    return this.#o.granularity === 'slot' ? `s.${slotOf(userId, this.#o.slots)}` : `u.${userId}`;
  }

  /** The key of a user id after checking it; throws InvalidArgumentError for an id that cannot be a key. */
  checkedKey(userId: string): string {
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > 128) {
      throw new InvalidArgumentError('userId must be a non-empty string of at most 128 characters');
    }
    // In user granularity the id becomes a topic word: a dot would split it and `*`/`#` would
    // bind a wildcard that receives other users' traffic.
    if (this.#o.granularity === 'user' && /[.*#]/.test(userId)) {
      throw new InvalidArgumentError('userId must not contain ".", "*" or "#" in user granularity');
    }
    return this.keyOf(userId);
  }

  /** The distinct keys a target names; throws InvalidArgumentError for a bad user id or slot. */
  keysOf(target: DispatchTarget): Set<string> {
    const { slots: S, granularity } = this.#o;
    const keys = new Set<string>();
    for (const user of target.users ?? []) {
      keys.add(this.checkedKey(user));
    }
    for (const slot of target.slots ?? []) {
      if (granularity !== 'slot') throw new InvalidArgumentError('dispatch to slots needs slot granularity');
      if (!Number.isInteger(slot) || slot < 0 || slot >= S)
        throw new InvalidArgumentError(`slot out of range: ${slot}`);
      keys.add(`s.${slot}`);
    }
    return keys;
  }

  /** The partition of a key: its slot's (a user key's slot is its user id's). */
  partitionOfKey(key: string): number {
    const { slots, partitions } = this.#o;
    const slot = key.startsWith('s.') ? Number(key.slice(2)) : slotOf(key.slice(2), slots);
    return partitionOf(slot, partitions);
  }

  /** The route exchange `<prefix>.route.<p>` that carries a key. */
  exchangeOfKey(key: string): string {
    return this.#names.routeExchanges[this.partitionOfKey(key)]!;
  }

  /** Where a key set is published: one front-exchange message (slot granularity) or one per partition. */
  routes(keys: string[]): Route[] {
    if (this.#o.granularity === 'slot') return [{ exchange: this.#names.frontExchange, keys }];
    const groups = new Map<number, string[]>();
    for (const key of keys) {
      const p = this.partitionOfKey(key);
      const list = groups.get(p);
      if (list) list.push(key);
      else groups.set(p, [key]);
    }
    return [...groups].map(([p, k]) => ({ exchange: this.#names.routeExchanges[p]!, keys: k }));
  }
}
