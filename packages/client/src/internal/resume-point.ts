// Where a RESUME starts (docs/protocol.md §5.5). Guarantees: `lastSeenId` never goes down within a
// run (reset only by connect()); it is at least the id of the READY moment by the client's clock
// (READY means "up to date as of now", so a drop before any message still resumes gaplessly); and
// `since` is `lastSeenId − margin` in snowflake time, because live deliveries are not in id order
// across channels — a smaller id may still be on its way when the connection drops.
import { firstIdAt, isSnowflake, maxId, resumeSince } from './snowflake.js';

export class ResumePoint {
  #lastSeenId: string | null = null;

  /** The highest message/event id seen (for updates and deletes, a lower bound of the event id). */
  get lastSeenId(): string | null {
    return this.#lastSeenId;
  }

  /** A new run (connect()): nothing seen yet. */
  reset(): void {
    this.#lastSeenId = null;
  }

  /** READY arrived at `nowMs`. */
  ready(nowMs: number): void {
    this.#lastSeenId = maxId(this.#lastSeenId, firstIdAt(nowMs));
  }

  /**
   * A message event. A create's id is its event id. An update or delete carries no event id
   * (unless the server adds `event_id`), so a lower bound is used: the message id, and for an
   * update the first id of its `edited_timestamp` millisecond (the store sets it from the event id).
   * A lower bound only makes the next RESUME start a little earlier.
   */
  seen(t: string, d: { id: string; edited_timestamp?: unknown; event_id?: unknown }): void {
    let seen = isSnowflake(d.event_id) ? maxId(d.id, d.event_id) : d.id;
    if (t === 'MESSAGE_UPDATE' && typeof d.edited_timestamp === 'string') {
      const ms = Date.parse(d.edited_timestamp);
      if (!Number.isNaN(ms)) seen = maxId(seen, firstIdAt(ms));
    }
    this.#lastSeenId = maxId(this.#lastSeenId, seen);
  }

  /** The `since` of a RESUME, or null when nothing was seen (IDENTIFY then). */
  since(marginMs: number): string | null {
    return this.#lastSeenId === null ? null : resumeSince(this.#lastSeenId, marginMs);
  }
}
