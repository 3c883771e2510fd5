// The messages of one channel as the page shows them: in id order, one entry per id, whatever
// order history pages and live events arrive in (a live event may beat the history that holds it).
import { compareIds, type Message, type Snowflake } from '@chat/client';

/** What an `upsert` did, so the view can patch the DOM instead of redrawing the list. */
export type UpsertResult =
  | { kind: 'inserted'; index: number }
  | { kind: 'replaced'; index: number }
  | { kind: 'unchanged' };

export class MessageLog {
  /** Ascending by id. */
  readonly #sorted: Message[] = [];
  readonly #byId = new Map<Snowflake, Message>();
  /** Ids deleted while we watched: a late history page must not bring them back. */
  readonly #deleted = new Set<Snowflake>();

  get size(): number {
    return this.#sorted.length;
  }

  /** The oldest message held, for paging history backwards. */
  get oldest(): Message | undefined {
    return this.#sorted[0];
  }

  list(): readonly Message[] {
    return this.#sorted;
  }

  has(id: Snowflake): boolean {
    return this.#byId.has(id);
  }

  /**
   * Adds a message or replaces the held copy with a newer edit. A copy that is not newer (the same
   * create twice, a history page older than a live edit) changes nothing.
   */
  upsert(m: Message): UpsertResult {
    if (this.#deleted.has(m.id)) return { kind: 'unchanged' };
    const held = this.#byId.get(m.id);
    if (held) {
      if (!isNewerEdit(m, held)) return { kind: 'unchanged' };
      const index = this.#indexOf(m.id);
      this.#sorted[index] = m;
      this.#byId.set(m.id, m);
      return { kind: 'replaced', index };
    }
    // Live messages almost always belong at the end: search from there.
    let index = this.#sorted.length;
    while (index > 0 && compareIds(this.#sorted[index - 1]!.id, m.id) > 0) index--;
    this.#sorted.splice(index, 0, m);
    this.#byId.set(m.id, m);
    return { kind: 'inserted', index };
  }

  /** Removes a message; resolves with its former index, or -1 when it was not held. */
  delete(id: Snowflake): number {
    this.#deleted.add(id);
    if (!this.#byId.delete(id)) return -1;
    const index = this.#indexOf(id);
    this.#sorted.splice(index, 1);
    return index;
  }

  #indexOf(id: Snowflake): number {
    for (let i = this.#sorted.length - 1; i >= 0; i--) if (this.#sorted[i]!.id === id) return i;
    return -1;
  }
}

function isNewerEdit(candidate: Message, held: Message): boolean {
  if (candidate.edited_timestamp === null) return false;
  if (held.edited_timestamp === null) return true;
  return Date.parse(candidate.edited_timestamp) > Date.parse(held.edited_timestamp);
}
