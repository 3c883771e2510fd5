// Group commit: items are gathered into batches, flushed by size or a short while after the first
// item, with at most `maxBatches` being processed at once. What arrives while that many run waits and
// goes as one batch (up to `batchSize`) when one of them ends, so batches grow with the load.

export interface BatcherOptions<T> {
  /** Flush at this many items; a longer backlog goes in batches of this size. */
  batchSize: number;
  /** …or this long after the first item of a batch (ms). */
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

  constructor(private readonly options: BatcherOptions<T>) {}

  /** Adds an item: a full batch flushes now, otherwise within `batchMs`. */
  add(item: T): void {
    this.pending.push(item);
    if (this.pending.length >= this.options.batchSize) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.options.batchMs);
  }

  /** Starts a batch of what is pending, unless `maxBatches` are running (the end of one flushes again). */
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
    const run = this.options.process(batch);
    this.running.add(run);
    void run.finally(() => {
      this.running.delete(run);
      if (this.pending.length > 0) this.flush();
    });
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
