// Which message events to pass on to the application. Deliveries are at least once (a persister
// redelivery re-publishes) and RESUME replays from a little before the last id seen, so the same
// change can arrive twice. The client keeps the last state it passed on for each of the most
// recent N message ids and passes an event on only when it changes that state.
import { fnv1a32 } from '@chat/protocol';
import { LruMap } from './lru.js';

interface SeenState {
  deleted: boolean;
  /** Unix ms of `edited_timestamp`; -Infinity for never edited. */
  editedAt: number;
  /** fnv1a32 of the content: enough to tell two states apart, without keeping 4000 characters. */
  contentHash: number;
}

export type MessageEventName = 'messageCreate' | 'messageUpdate' | 'messageDelete';

interface MessageLike {
  id: string;
  content?: unknown;
  edited_timestamp?: unknown;
}

function stateOf(m: MessageLike): SeenState {
  const edited = typeof m.edited_timestamp === 'string' ? Date.parse(m.edited_timestamp) : Number.NaN;
  return {
    deleted: false,
    editedAt: Number.isNaN(edited) ? Number.NEGATIVE_INFINITY : edited,
    contentHash: fnv1a32(typeof m.content === 'string' ? m.content : ''),
  };
}

function sameState(a: SeenState, b: SeenState): boolean {
  return a.deleted === b.deleted && a.editedAt === b.editedAt && a.contentHash === b.contentHash;
}

export class MessageDedup {
  readonly #seen: LruMap<string, SeenState>;

  constructor(capacity = 10_000) {
    this.#seen = new LruMap(capacity);
  }

  get size(): number {
    return this.#seen.size;
  }

  /**
   * The event to emit for a MESSAGE_CREATE / MESSAGE_UPDATE / MESSAGE_DELETE, or null for a
   * duplicate or a stale state.
   *
   * A MESSAGE_CREATE for a known id with a newer state becomes `messageUpdate`: RESUME replays a
   * message created after `since` as one create carrying its current content, so an edit missed
   * while disconnected arrives that way.
   */
  observe(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE', m: MessageLike): MessageEventName | null {
    const prev = this.#seen.get(m.id);
    if (prev?.deleted) return null; // a delete is final
    if (t === 'MESSAGE_DELETE') {
      this.#seen.set(m.id, { deleted: true, editedAt: Number.POSITIVE_INFINITY, contentHash: 0 });
      return 'messageDelete';
    }
    const next = stateOf(m);
    if (prev === undefined) {
      this.#seen.set(m.id, next);
      return t === 'MESSAGE_CREATE' ? 'messageCreate' : 'messageUpdate';
    }
    if (sameState(prev, next) || next.editedAt < prev.editedAt) return null;
    this.#seen.set(m.id, next);
    return 'messageUpdate';
  }

  clear(): void {
    this.#seen.clear();
  }
}
