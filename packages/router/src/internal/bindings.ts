// Reference-counted routing keys of one gateway queue, reconciled against the broker.
// Callers acquire and release keys; the table alone decides when a bind or unbind is issued:
// only on 0↔1 transitions, after an optional linger, coalesced (a release+acquire that cancels
// out before the broker was asked issues nothing), one operation per key at a time, keys spread
// over several lanes (AMQP channels) because each channel runs one synchronous RPC at a time.
import { fnv1a32 } from '@chat/protocol';

/** Issues binding operations; lane = index of the channel to use. Rejects when the operation failed. */
export interface BindingExecutor {
  bind(key: string, lane: number): Promise<void>;
  unbind(key: string, lane: number): Promise<void>;
}

export interface BindingTableOptions {
  lanes: number;
  /** Keep a key bound this long after its last release (absorbs reconnect churn). 0 = unbind at once. */
  lingerMs: number;
  /** Delay before retrying a failed operation while the executor is still attached. */
  retryDelayMs?: number;
  onOperation?: (op: 'bind' | 'unbind', outcome: 'ok' | 'error', error?: unknown) => void;
  onChange?: () => void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class BindingTable {
  readonly #opts: Required<Omit<BindingTableOptions, 'onOperation' | 'onChange'>> &
    Pick<BindingTableOptions, 'onOperation' | 'onChange'>;
  readonly #refs = new Map<string, number>();
  readonly #lingering = new Map<string, NodeJS.Timeout>();
  /** Keys the broker is known to have bound. */
  readonly #applied = new Set<string>();
  /** Keys whose broker state is unknown (after a reconnect): bound or not, re-assert them. */
  readonly #unknown = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #inflight = new Set<string>();
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #idleWaiters: Waiter[] = [];
  #references = 0;
  /** Date.now() when an operation last succeeded (0: none yet). */
  #lastDoneAt = 0;
  #executor: BindingExecutor | null = null;
  #flushScheduled = false;
  #closed = false;

  constructor(options: BindingTableOptions) {
    this.#opts = { retryDelayMs: 1000, ...options };
  }

  /** Total references held (sockets attached). */
  get references(): number {
    return this.#references;
  }

  /** Keys with at least one reference or still lingering. */
  get desiredKeys(): string[] {
    return [...new Set([...this.#refs.keys(), ...this.#lingering.keys()])];
  }

  /** Date.now() when a bind or unbind last succeeded (0: none yet): whether the broker is answering. */
  get lastDoneAt(): number {
    return this.#lastDoneAt;
  }

  /** Keys the broker is known to have bound. */
  get boundKeys(): number {
    return this.#applied.size;
  }

  refCount(key: string): number {
    return this.#refs.get(key) ?? 0;
  }

  isBound(key: string): boolean {
    return this.#applied.has(key) && !this.#inflight.has(key) && !this.#dirty.has(key);
  }

  /** Adds a reference; resolves once the key is bound on the broker (at once if it already is). */
  acquire(key: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('binding table closed'));
    const count = (this.#refs.get(key) ?? 0) + 1;
    this.#refs.set(key, count);
    this.#references += 1;
    const linger = this.#lingering.get(key);
    if (linger) {
      clearTimeout(linger);
      this.#lingering.delete(key);
    }
    this.#opts.onChange?.();
    if (this.#applied.has(key) && !this.#unknown.has(key) && !this.#inflight.has(key)) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => {
      const list = this.#waiters.get(key) ?? [];
      this.#waiters.set(key, list);
      list.push({ resolve, reject });
    });
    this.#markDirty(key);
    return p;
  }

  /** Drops a reference; at zero the key is unbound (after the linger). Extra releases are ignored. */
  release(key: string): void {
    const count = this.#refs.get(key);
    if (count === undefined) return;
    this.#references -= 1;
    if (count > 1) {
      this.#refs.set(key, count - 1);
      this.#opts.onChange?.();
      return;
    }
    this.#refs.delete(key);
    this.#opts.onChange?.();
    if (this.#opts.lingerMs > 0) {
      const timer = setTimeout(() => {
        this.#lingering.delete(key);
        this.#markDirty(key);
      }, this.#opts.lingerMs);
      timer.unref();
      this.#lingering.set(key, timer);
    } else {
      this.#markDirty(key);
    }
  }

  /**
   * Attaches an executor (a fresh connection) and re-asserts every key: desired keys are bound,
   * keys that were bound but are no longer wanted are unbound. Resolves when nothing is left to do;
   * rejects if the executor is detached first.
   */
  async reconcile(executor: BindingExecutor): Promise<void> {
    this.#executor = executor;
    for (const key of this.#applied) this.#unknown.add(key);
    this.#applied.clear();
    this.#opts.onChange?.();
    for (const key of this.#unknown) this.#dirty.add(key);
    for (const key of this.desiredKeys) this.#dirty.add(key);
    this.#scheduleFlush();
    await this.#whenIdle();
  }

  /** The connection is gone: stop issuing operations; what was bound becomes unknown. */
  detachExecutor(): void {
    this.#executor = null;
    const err = new Error('binding executor detached');
    for (const w of this.#idleWaiters.splice(0)) w.reject(err);
  }

  /** Resolves once no operation is pending or in flight. */
  #whenIdle(): Promise<void> {
    if (this.#dirty.size === 0 && this.#inflight.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#idleWaiters.push({ resolve, reject }));
  }

  /** Waits until every pending operation has been applied (for drain and tests). */
  settled(): Promise<void> {
    return this.#whenIdle();
  }

  /** Releases every reference and cancels lingers; the next flush unbinds everything. */
  releaseAll(): void {
    for (const timer of this.#lingering.values()) clearTimeout(timer);
    for (const key of [...this.#refs.keys(), ...this.#lingering.keys()]) this.#markDirty(key);
    this.#refs.clear();
    this.#references = 0;
    this.#lingering.clear();
    this.#opts.onChange?.();
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#lingering.values()) clearTimeout(timer);
    this.#lingering.clear();
    const err = new Error('binding table closed');
    for (const list of this.#waiters.values()) for (const w of list) w.reject(err);
    this.#waiters.clear();
    for (const w of this.#idleWaiters.splice(0)) w.reject(err);
    this.#executor = null;
  }

  #desired(key: string): boolean {
    return this.#refs.has(key) || this.#lingering.has(key);
  }

  #markDirty(key: string): void {
    this.#dirty.add(key);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // setImmediate, not a microtask: an attach and detach in the same turn cancel out.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const executor = this.#executor;
    if (!executor || this.#closed) return;
    for (const key of [...this.#dirty]) {
      if (this.#inflight.has(key)) continue; // re-checked when the running operation ends
      this.#dirty.delete(key);
      const want = this.#desired(key);
      const known = this.#applied.has(key);
      const unknown = this.#unknown.has(key);
      if (want && known && !unknown) {
        this.#resolveWaiters(key);
      } else if (want) {
        this.#run(executor, key, 'bind');
      } else {
        // Detached before the bind was needed: whoever awaited the attach is gone; let them go.
        this.#resolveWaiters(key);
        if (known || unknown) this.#run(executor, key, 'unbind');
      }
    }
    this.#checkIdle();
  }

  #run(executor: BindingExecutor, key: string, op: 'bind' | 'unbind'): void {
    this.#inflight.add(key);
    const lane = fnv1a32(key) % this.#opts.lanes;
    const call = op === 'bind' ? executor.bind(key, lane) : executor.unbind(key, lane);
    call.then(
      () => {
        this.#lastDoneAt = Date.now();
        this.#inflight.delete(key);
        this.#unknown.delete(key);
        if (op === 'bind') this.#applied.add(key);
        else this.#applied.delete(key);
        this.#opts.onOperation?.(op, 'ok');
        this.#opts.onChange?.();
        if (op === 'bind' && this.#desired(key) && !this.#dirty.has(key)) this.#resolveWaiters(key);
        if (this.#dirty.has(key)) this.#scheduleFlush();
        this.#checkIdle();
      },
      (err: unknown) => {
        this.#inflight.delete(key);
        this.#opts.onOperation?.(op, 'error', err);
        // Broker state of this key is now unknown; try again on this connection (if it is still
        // ours) after a pause, or on the next one through reconcile().
        this.#unknown.add(key);
        this.#dirty.add(key);
        if (this.#executor === executor) {
          setTimeout(() => this.#scheduleFlush(), this.#opts.retryDelayMs).unref();
        }
        this.#checkIdle();
      },
    );
  }

  #resolveWaiters(key: string): void {
    const list = this.#waiters.get(key);
    if (!list) return;
    this.#waiters.delete(key);
    for (const w of list) w.resolve();
  }

  #checkIdle(): void {
    if (this.#dirty.size > 0 || this.#inflight.size > 0) return;
    for (const w of this.#idleWaiters.splice(0)) w.resolve();
  }
}
