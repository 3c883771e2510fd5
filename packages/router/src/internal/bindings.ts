// Reference-counted routing keys of one gateway queue, reconciled against the broker.
// Callers acquire and release keys; the table alone decides when a bind or unbind is issued:
// only on 0↔1 transitions, after an optional linger, coalesced (a release+acquire that cancels
// out before the broker was asked issues nothing), one operation per key at a time, keys spread
// over several lanes (AMQP channels) because each channel runs one synchronous RPC at a time.
// Each lane is handed one operation at a time (an AMQP channel would only queue more: its RPCs are
// synchronous), and the next is chosen when it is free, binds first: in a reconnect storm the keys
// whose linger ran out are still waiting to be unbound when their users come back, so a re-acquired
// key costs nothing, and an attach waits for no unbind of another key (W4: unbinds queued in front
// of every bind kept the storm's RESUMEs waiting past their deadline).
// Unbinds of released keys are paced (`unbindsPerSecond`, with a burst of as many): an unbind only
// saves the broker deliveries nobody here wants, while each binding operation is a cluster-wide
// transaction in the broker (≈ 10 ms of broker CPU on W4's co-located 3-node cluster). When a gateway
// loses every socket at once, its clients are back within seconds: paced, most of its keys are still bound
// when they return and cost nothing; unpaced, the lanes unbound them all in the second before (W4
// all-drop: 627 unbinds and 627 binds, the broker at 68 % of a core). Unbinds asked for by
// releaseAll() (drain) and by reconcile() are not paced.
// Pacing alone still let a slow return cost a bind and an unbind per key (W4 all-drop: 416 of each,
// the clients' attempt → HELLO 3 s at the median); after a mass release (mass-release.ts) released keys
// stay bound until the hold ends, whatever their linger.
import { fnv1a32 } from '@chat/protocol';
import { MassReleaseDetector } from './mass-release.js';

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
  /** Unbinds of released keys per second at most, with a burst of as many (see above). Default 32. */
  unbindsPerSecond?: number;
  /** After a mass release (mass-release.ts), keep released keys bound this long. 0 (default) = never. */
  massReleaseHoldMs?: number;
  /** A mass release started a hold: `keys` = keys held bound now that would otherwise be unbound soon. */
  onHold?: (keys: number, holdMs: number) => void;
  onOperation?: (op: 'bind' | 'unbind', outcome: 'ok' | 'error', error?: unknown) => void;
  onChange?: () => void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class BindingTable {
  readonly #opts: Required<Omit<BindingTableOptions, 'onOperation' | 'onChange' | 'onHold'>> &
    Pick<BindingTableOptions, 'onOperation' | 'onChange' | 'onHold'>;
  readonly #massRelease: MassReleaseDetector;
  readonly #refs = new Map<string, number>();
  readonly #lingering = new Map<string, NodeJS.Timeout>();
  /** Keys the broker is known to have bound. */
  readonly #applied = new Set<string>();
  /** Keys whose broker state is unknown (after a reconnect): bound or not, re-assert them. */
  readonly #unknown = new Set<string>();
  readonly #dirty = new Set<string>();
  /** #dirty by lane. */
  readonly #laneDirty: Array<Set<string>>;
  /** Lanes with an operation of the current executor in flight. */
  readonly #laneBusy: boolean[];
  readonly #inflight = new Set<string>();
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #idleWaiters: Waiter[] = [];
  /** Released keys whose unbind is paced (not yet issued). */
  readonly #paced = new Set<string>();
  #unbindTokens: number;
  #tokensAt = 0;
  #pacingTimer: NodeJS.Timeout | undefined;
  #references = 0;
  /** Date.now() when an operation last succeeded (0: none yet). */
  #lastDoneAt = 0;
  #executor: BindingExecutor | null = null;
  #flushScheduled = false;
  #closed = false;

  constructor(options: BindingTableOptions) {
    this.#opts = { retryDelayMs: 1000, unbindsPerSecond: 32, massReleaseHoldMs: 0, ...options };
    if (!(this.#opts.unbindsPerSecond > 0)) throw new RangeError('unbindsPerSecond must be > 0');
    this.#massRelease = new MassReleaseDetector({ holdMs: this.#opts.massReleaseHoldMs });
    this.#unbindTokens = this.#opts.unbindsPerSecond;
    this.#laneDirty = Array.from({ length: options.lanes }, () => new Set<string>());
    this.#laneBusy = Array.from({ length: options.lanes }, () => false);
  }

  #laneOf(key: string): number {
    return fnv1a32(key) % this.#opts.lanes;
  }

  #addDirty(key: string): void {
    this.#dirty.add(key);
    this.#laneDirty[this.#laneOf(key)]!.add(key);
  }

  #deleteDirty(key: string): void {
    this.#dirty.delete(key);
    this.#laneDirty[this.#laneOf(key)]!.delete(key);
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
    // Wanted again before its paced unbind went out: the next flush settles it (nothing to send).
    if (this.#paced.delete(key)) this.#markDirty(key);
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

  /** Drops a reference; at zero the key is unbound after the linger, or after the hold when one is on. Extra releases are ignored. */
  release(key: string): void {
    const count = this.#refs.get(key);
    if (count === undefined) return;
    const now = performance.now();
    if (this.#massRelease.onRelease(this.#references, now)) this.#startHold(now);
    this.#references -= 1;
    if (count > 1) {
      this.#refs.set(key, count - 1);
      this.#opts.onChange?.();
      return;
    }
    this.#refs.delete(key);
    this.#opts.onChange?.();
    const holdLeft = this.#massRelease.holdUntil - now;
    const lingerMs = Math.max(this.#opts.lingerMs, holdLeft);
    if (lingerMs > 0) this.#linger(key, lingerMs);
    else {
      this.#paced.add(key);
      this.#markDirty(key);
    }
  }

  /** Keeps a released key bound for `ms`; when that ends during a hold, until the hold ends. */
  #linger(key: string, ms: number): void {
    const timer = setTimeout(() => {
      const holdLeft = this.#massRelease.holdUntil - performance.now();
      if (holdLeft > 0) {
        this.#linger(key, holdLeft);
        return;
      }
      this.#lingering.delete(key);
      this.#paced.add(key);
      this.#markDirty(key);
    }, ms);
    timer.unref();
    this.#lingering.set(key, timer);
  }

  /** A hold started: keys released earlier whose paced unbind has not gone out yet are kept too. */
  #startHold(now: number): void {
    const holdMs = this.#massRelease.holdUntil - now;
    for (const key of [...this.#paced]) {
      if (this.#inflight.has(key)) continue;
      this.#paced.delete(key);
      this.#linger(key, holdMs);
      this.#markDirty(key); // settles to nothing: the key is wanted and still bound
    }
    this.#opts.onHold?.(this.#lingering.size, holdMs);
  }

  /**
   * Attaches an executor (a fresh connection) and re-asserts every key: desired keys are bound,
   * keys that were bound but are no longer wanted are unbound. Resolves when nothing is left to do;
   * rejects if the executor is detached first.
   */
  async reconcile(executor: BindingExecutor): Promise<void> {
    this.#executor = executor;
    this.#laneBusy.fill(false);
    for (const key of this.#applied) this.#unknown.add(key);
    this.#applied.clear();
    this.#paced.clear();
    this.#opts.onChange?.();
    for (const key of this.#unknown) this.#addDirty(key);
    for (const key of this.desiredKeys) this.#addDirty(key);
    this.#scheduleFlush();
    await this.#whenIdle();
  }

  /** The connection is gone: stop issuing operations; what was bound becomes unknown. */
  detachExecutor(): void {
    this.#executor = null;
    this.#laneBusy.fill(false);
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
    this.#paced.clear();
    for (const timer of this.#lingering.values()) clearTimeout(timer);
    for (const key of [...this.#refs.keys(), ...this.#lingering.keys()]) this.#markDirty(key);
    this.#refs.clear();
    this.#references = 0;
    this.#lingering.clear();
    this.#opts.onChange?.();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#pacingTimer);
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
    this.#addDirty(key);
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
    for (let lane = 0; lane < this.#opts.lanes; lane++) {
      while (!this.#laneBusy[lane]) {
        const key = this.#next(lane);
        if (key === undefined) break;
        this.#deleteDirty(key);
        const paced = this.#paced.delete(key);
        const want = this.#desired(key);
        const known = this.#applied.has(key);
        const unknown = this.#unknown.has(key);
        if (want && known && !unknown) {
          this.#resolveWaiters(key);
        } else if (want) {
          this.#run(executor, key, 'bind', lane);
        } else {
          // Detached before the bind was needed: whoever awaited the attach is gone; let them go.
          this.#resolveWaiters(key);
          if (known || unknown) {
            if (paced) this.#unbindTokens--;
            this.#run(executor, key, 'unbind', lane);
          }
        }
      }
    }
    this.#checkIdle();
  }

  /** Whether a paced unbind may go now (tokens refilled at `unbindsPerSecond`); if not, a flush is due when one may. */
  #mayUnbind(): boolean {
    const now = performance.now();
    const rate = this.#opts.unbindsPerSecond;
    this.#unbindTokens = Math.min(rate, this.#unbindTokens + ((now - this.#tokensAt) * rate) / 1000);
    this.#tokensAt = now;
    if (this.#unbindTokens >= 1) return true;
    if (this.#pacingTimer === undefined) {
      const waitMs = Math.ceil(((1 - this.#unbindTokens) * 1000) / rate);
      this.#pacingTimer = setTimeout(() => {
        this.#pacingTimer = undefined;
        this.#scheduleFlush();
      }, waitMs);
      // Not unref'd: pending unbinds are work (settled() waits for them); close() clears it.
    }
    return false;
  }

  /**
   * The lane's next key to settle: a wanted one first (an attach waits for it), else the oldest other,
   * a paced unbind only when the pace allows one.
   */
  #next(lane: number): string | undefined {
    let other: string | undefined;
    let paced: string | undefined;
    for (const key of this.#laneDirty[lane]!) {
      if (this.#inflight.has(key)) continue; // re-checked when the running operation ends
      if (this.#desired(key)) return key;
      if (!this.#paced.has(key) || !(this.#applied.has(key) || this.#unknown.has(key))) other ??= key;
      else paced ??= key;
    }
    if (other !== undefined) return other;
    return paced !== undefined && this.#mayUnbind() ? paced : undefined;
  }

  #run(executor: BindingExecutor, key: string, op: 'bind' | 'unbind', lane: number): void {
    this.#inflight.add(key);
    this.#laneBusy[lane] = true;
    const call = op === 'bind' ? executor.bind(key, lane) : executor.unbind(key, lane);
    call.then(
      () => {
        this.#lastDoneAt = Date.now();
        if (this.#executor === executor) this.#laneBusy[lane] = false;
        this.#inflight.delete(key);
        this.#unknown.delete(key);
        if (op === 'bind') this.#applied.add(key);
        else this.#applied.delete(key);
        this.#opts.onOperation?.(op, 'ok');
        this.#opts.onChange?.();
        if (op === 'bind' && this.#desired(key) && !this.#dirty.has(key)) this.#resolveWaiters(key);
        // The lane is free: its next key (this one again, if it changed meanwhile).
        if (this.#dirty.size > 0) this.#scheduleFlush();
        this.#checkIdle();
      },
      (err: unknown) => {
        if (this.#executor === executor) this.#laneBusy[lane] = false;
        this.#inflight.delete(key);
        this.#opts.onOperation?.(op, 'error', err);
        // Broker state of this key is now unknown; try again on this connection (if it is still
        // ours) after a pause, or on the next one through reconcile().
        this.#unknown.add(key);
        this.#addDirty(key);
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
