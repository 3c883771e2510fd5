// Reads asked for within one turn of the event loop, issued as one batch: a reconnect storm's RESUMEs
// each ask for the user's token version, the user's channels and a replay; one query per batch of
// users (or one read per distinct replay) replaces one per socket. Equal keys asked in one turn share
// one answer.
//
// Guarantee that RESUME relies on: a batch's load starts in a later macrotask (setImmediate) than
// every get() that joined it, so it reads the store strictly after each caller asked — whatever a
// caller did before asking (its attach) precedes the read, exactly as if it had read alone. A batch
// never takes keys asked after its load started. Bounded: at most `maxBatch` distinct keys per load
// (more start another batch in the same turn).

export interface TickBatcherOptions<K, V> {
  /** Loads the distinct keys of one batch; a key missing from the result resolves to `missing`. */
  load(keys: K[]): Promise<Map<K, V>>;
  /** What a key absent from the loaded map resolves to. */
  missing: V;
  /** Distinct keys per load at most. */
  maxBatch: number;
}

interface Batch<K, V> {
  waiters: Map<K, Array<{ resolve: (v: V) => void; reject: (err: unknown) => void }>>;
}

export class TickBatcher<K, V> {
  readonly #o: TickBatcherOptions<K, V>;
  /** The batch still collecting keys (its load not started yet). */
  #open: Batch<K, V> | undefined;

  constructor(options: TickBatcherOptions<K, V>) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new Error('maxBatch must be ≥ 1');
    this.#o = options;
  }

  /** The value of `key`, read by a load that starts after this call (in a later macrotask). */
  get(key: K): Promise<V> {
    let batch = this.#open;
    if (!batch || (batch.waiters.size >= this.#o.maxBatch && !batch.waiters.has(key))) {
      // A full batch is left to its scheduled load; keys from here on go to a new one.
      const b: Batch<K, V> = { waiters: new Map() };
      this.#open = b;
      batch = b;
      setImmediate(() => this.#run(b));
    }
    const list = batch.waiters.get(key) ?? [];
    batch.waiters.set(key, list);
    return new Promise<V>((resolve, reject) => list.push({ resolve, reject }));
  }

  #run(batch: Batch<K, V>): void {
    if (this.#open === batch) this.#open = undefined;
    const keys = [...batch.waiters.keys()];
    let loading: Promise<Map<K, V>>;
    try {
      loading = this.#o.load(keys);
    } catch (err) {
      loading = Promise.reject(err);
    }
    loading.then(
      (values) => {
        for (const [key, list] of batch.waiters) {
          const v = values.has(key) ? (values.get(key) as V) : this.#o.missing;
          for (const w of list) w.resolve(v);
        }
      },
      (err: unknown) => {
        for (const list of batch.waiters.values()) for (const w of list) w.reject(err);
      },
    );
  }
}
