// A bounded set of pending graces: each key waits `graceMs`, then `onExpire(key)` runs, unless it was
// cancelled first. Used for presence: a user who left is announced offline only after its grace, and a
// return within it cancels the announcement. At most `max` graces run at once; past that, start()
// refuses and the caller acts at once (so churn cannot grow the set without bound).

export class GraceTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #graceMs: number;
  readonly #max: number;
  readonly #onExpire: (key: string) => void;

  constructor(graceMs: number, max: number, onExpire: (key: string) => void) {
    this.#graceMs = graceMs;
    this.#max = max;
    this.#onExpire = onExpire;
  }

  /** Pending graces. */
  get size(): number {
    return this.#timers.size;
  }

  /** Starts (or restarts) the key's grace; false when `max` graces are pending already: act now. */
  start(key: string): boolean {
    const running = this.#timers.get(key);
    if (running === undefined && this.#timers.size >= this.#max) return false;
    clearTimeout(running);
    const timer = setTimeout(() => this.#expire(key), this.#graceMs);
    timer.unref();
    this.#timers.set(key, timer);
    return true;
  }

  /** Cancels the key's grace; true when one was pending (onExpire will not run for it). */
  cancel(key: string): boolean {
    const timer = this.#timers.get(key);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.#timers.delete(key);
    return true;
  }

  /** Ends every pending grace now: onExpire runs for each. */
  flush(): void {
    for (const key of [...this.#timers.keys()]) this.#expire(key);
  }

  #expire(key: string): void {
    if (!this.cancel(key)) return;
    this.#onExpire(key);
  }
}
