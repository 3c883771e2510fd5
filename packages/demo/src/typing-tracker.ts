// Who is typing where. TYPING_START is ephemeral and carries no "stopped": an entry lasts
// `showMs` after its last event, or until that user's message arrives.
import type { Snowflake } from '@chat/client';

export interface TypingTrackerOptions {
  /** How long one TYPING_START shows its user as typing, in ms. Default 5000. */
  showMs?: number;
  /** Clock, injectable for tests. Default `Date.now`. */
  now?: () => number;
}

export class TypingTracker {
  readonly #showMs: number;
  readonly #now: () => number;
  /** channel → user → { name, until }. */
  readonly #typing = new Map<Snowflake, Map<Snowflake, { name: string; until: number }>>();

  constructor(options: TypingTrackerOptions = {}) {
    this.#showMs = options.showMs ?? 5000;
    this.#now = options.now ?? Date.now;
  }

  /** Records a TYPING_START; resolves with when it expires (ms since the epoch). */
  start(channelId: Snowflake, userId: Snowflake, name: string): number {
    let users = this.#typing.get(channelId);
    if (!users) {
      users = new Map();
      this.#typing.set(channelId, users);
    }
    const until = this.#now() + this.#showMs;
    users.set(userId, { name, until });
    return until;
  }

  /** The user sent a message there: they are no longer typing it. */
  stop(channelId: Snowflake, userId: Snowflake): void {
    this.#typing.get(channelId)?.delete(userId);
  }

  /** Names typing in the channel now, in the order they started. */
  names(channelId: Snowflake): string[] {
    const users = this.#typing.get(channelId);
    if (!users) return [];
    const now = this.#now();
    const names: string[] = [];
    for (const [id, entry] of users) {
      if (entry.until <= now) users.delete(id);
      else names.push(entry.name);
    }
    return names;
  }
}

/** "alice is typing…", "alice and bob are typing…", "3 people are typing…", or "". */
export function describeTyping(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return `${names.length} people are typing…`;
}
