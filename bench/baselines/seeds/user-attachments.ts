// Reference counts of identified sockets per user on this server, so that the routing sees one
// attach when a user's first socket arrives and one detach when its last one leaves. A detach
// waits for the attach it undoes, so a routing never gets them out of order for one user.
import type { Routing } from './routing.js';

interface Entry {
  count: number;
  attached: Promise<void>;
}

export class UserAttachments {
  readonly #routing: Routing;
  readonly #entries = new Map<string, Entry>();
  /** Detaches not yet handed to the routing: an attach of the same user waits for them. */
  readonly #detaching = new Map<string, Promise<void>>();

  constructor(routing: Routing) {
    this.#routing = routing;
  }

  /** Adds a reference; resolves once the routing delivers this user's messages here. */
  acquire(userId: string): Promise<void> {
    let entry = this.#entries.get(userId);
    if (!entry) {
      const detaching = this.#detaching.get(userId);
      const attached = detaching ? detaching.then(() => this.#routing.attach(userId)) : this.#routing.attach(userId);
      entry = { count: 0, attached };
      this.#entries.set(userId, entry);
    }
    entry.count++;
    return entry.attached;
  }

  /** Drops a reference taken by `acquire` (whether its attach succeeded or not). */
  release(userId: string): void {
    const entry = this.#entries.get(userId);
    if (!entry || --entry.count > 0) return;
    this.#entries.delete(userId);
    const detaching = entry.attached.then(
      () => this.#routing.detach(userId),
      () => {}, // never attached: nothing to undo
    );
    this.#detaching.set(userId, detaching);
    void detaching.then(() => {
      if (this.#detaching.get(userId) === detaching) this.#detaching.delete(userId);
    });
  }

  get users(): number {
    return this.#entries.size;
  }
}
