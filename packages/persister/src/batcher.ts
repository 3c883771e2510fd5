// Group commit: items are gathered into batches; a full batch (`batchSize`) starts at once, a partial
// one at most once per `batchMs` (counted from the start of the previous batch, so after a quiet spell
// it starts in the next turn of the event loop: no added latency when the load is light), with at most
// `maxBatches` being processed at once. What arrives meanwhile waits and goes as one batch, so batches
// grow with the load. Why pace partial batches: each batch costs a fixed set of store commands and
// broker operations, and at moderate rates starting one per arrival made those fixed costs most of the
// persister's CPU (W1 at 1,000 DM/s: bench/results/linger-2026-12-03.md).

export interface BatcherOptions<T> {
  /** Start a batch at this many items at once; a longer backlog goes in batches of this size. */
  batchSize: number;
  /** Start a partial batch at most once per this many ms (0: at the end of every turn). */
  batchMs: number;
  /** At most this many batches processed at once; 0: no limit. */
  maxBatches: number;
  /** Processes one batch; must not reject (a batch handles its own failures). */
  process: (batch: T[]) => Promise<void>;
}

export class Batcher<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();
  /** Date.now() when the last batch started. */
  private lastStartAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: BatcherOptions<T>) {}

  /** Adds an item: a full batch starts now, a partial one when `batchMs` has passed since the last start. */
  add(item: T): void {
    this.pending.push(item);
    if (this.pending.length >= this.options.batchSize) this.flush();
    else this.schedule();
  }

  /** Starts a batch of what is pending now, unless `maxBatches` are running (the end of one goes on). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const { maxBatches, batchSize } = this.options;
    if (maxBatches > 0 && this.running.size >= maxBatches) return;
    const batch = this.pending.length > batchSize ? this.pending.splice(0, batchSize) : this.pending;
    if (batch === this.pending) this.pending = [];
    this.lastStartAt = Date.now();
    const run = this.options.process(batch);
    this.running.add(run);
    void run.finally(() => {
      this.running.delete(run);
      if (this.pending.length >= this.options.batchSize) this.flush();
      else if (this.pending.length > 0) this.schedule();
    });
  }

  /**
   * Arms the timer of a partial batch: the end of this turn, or `batchMs` after the last start. Never
   * longer than `batchMs`: Date.now() is the wall clock, and a clock set back must not stall batches.
   */
  private schedule(): void {
    if (this.timer) return;
    const { batchMs } = this.options;
    const waitMs = Math.min(batchMs, Math.max(0, this.lastStartAt + batchMs - Date.now()));
    this.timer = setTimeout(() => this.flush(), waitMs);
  }

  /** Batches being processed. */
  get inProgress(): number {
    return this.running.size;
  }

  /** Items waiting for a batch. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Resolves when every batch running now has ended. */
  settled(): Promise<void> {
    return Promise.all(this.running).then(() => undefined);
  }
}
