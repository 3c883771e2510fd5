// One full garbage collection after a burst of connects/disconnects, once the gateway is quiet again.
//
// Why (bench W3): thousands of IDENTIFYs in flight at once (each waits for its attach and its channel
// list) get their short-lived objects promoted to V8's old space, where they die. V8 collects old space
// only when it reaches a limit that grew with the burst, so an idle gateway kept ~9 KiB of garbage per
// connection for as long as it stayed idle — in RSS, per idle connection, and after every socket closed.
// One compacting collection when the burst is over gives that back. It is a pause of tens of milliseconds, at most
// once per quiet period and only after at least `minChanges` connects/disconnects.
import v8 from 'node:v8';
import vm from 'node:vm';

export interface IdleGcOptions {
  /** Connects + disconnects since the last collection that make one worth doing. */
  minChanges: number;
  /** How long no connect/disconnect must have happened. */
  quietMs: number;
  /** Work the churn started is still pending (e.g. presence leaves): wait for it. */
  busy?: () => boolean;
  onCollect?: (info: { changes: number; ms: number; freedBytes: number }) => void;
}

let collect: (() => void) | undefined;

function gcFunction(): () => void {
  if (!collect) {
    // The documented way to get `gc` is the --expose-gc flag; set at run time it applies to contexts
    // created afterwards, so a fresh context hands it over without changing how the process is started.
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  return collect;
}

export class IdleGc {
  readonly #o: IdleGcOptions;
  #changes: number;
  #lastChangeAt = 0;

  constructor(options: IdleGcOptions) {
    this.#o = options;
    // Start-up (loading modules, connecting to the services) counts as churn: the first quiet tick
    // collects what it left, so an idle gateway starts from its live heap.
    this.#changes = options.minChanges;
  }

  /** A connection opened or closed. */
  changed(now: number): void {
    this.#changes++;
    this.#lastChangeAt = now;
  }

  /** Called by the gateway's periodic sweep. Returns true when it collected. */
  tick(now: number): boolean {
    if (this.#changes < this.#o.minChanges || now - this.#lastChangeAt < this.#o.quietMs) return false;
    if (this.#o.busy?.()) return false;
    const changes = this.#changes;
    this.#changes = 0;
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    // Compacting: the survivors of the burst are spread over pages it filled with garbage; moving
    // them together lets V8 give the emptied pages back (heap committed, hence RSS), not only reuse them.
    v8.setFlagsFromString('--compact-on-every-full-gc');
    try {
      gcFunction()();
    } finally {
      v8.setFlagsFromString('--no-compact-on-every-full-gc');
    }
    this.#o.onCollect?.({
      changes,
      ms: performance.now() - started,
      freedBytes: before - process.memoryUsage().heapUsed,
    });
    return true;
  }
}
