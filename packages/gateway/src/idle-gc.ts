// One full garbage collection after a burst of connects/disconnects, once the gateway is quiet again:
// no connect/disconnect for `quietMs`, and an event loop that is nearly idle (no traffic to pause).
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
  /**
   * How busy the event loop was since the previous tick, 0..1. Default: measured
   * (performance.eventLoopUtilization). Above `maxUtilization` the gateway is not quiet, whatever the churn.
   */
  utilization?: () => number;
  /**
   * The event-loop utilization up to which the gateway counts as quiet. Default 0.1 (measured: an idle
   * gateway holding 10,000 sockets ~4 %; one serving its half of 1,000 DMs/s 17–19 %).
   */
  maxUtilization?: number;
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
  readonly #utilization: () => number;

  constructor(options: IdleGcOptions) {
    this.#o = options;
    this.#utilization = options.utilization ?? loopUtilizationSinceLastCall();
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
    // Read every tick, so that it always covers exactly the time since the previous one.
    const utilization = this.#utilization();
    if (this.#changes < this.#o.minChanges || now - this.#lastChangeAt < this.#o.quietMs) return false;
    // A loop serving traffic is not quiet: the collection's pause (60–100 ms with 500 sockets) would
    // hold every message in flight (w1's cold start: both gateways paused 1–2 s into the first traffic
    // after 1,000 clients connected, 3 s after the last connect). Such a loop allocates, and V8's own
    // collections reclaim the burst's garbage; the idle one this is for does not.
    if (utilization > (this.#o.maxUtilization ?? 0.1)) return false;
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

/** Event-loop utilization since the previous call (the first call: since the process started). */
function loopUtilizationSinceLastCall(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    return utilization;
  };
}
