// Recognises a mass disconnect: a large share of a gateway's references released within one second
// (every socket of a gateway dropped by a network blip, a load balancer's restart, a client release
// that crashed on start). Those clients come back within seconds, and each key whose linger ran out
// meanwhile costs an unbind now and a bind when its users return — each a cluster-wide transaction in
// the broker (W4 all-drop on a 3-node cluster: 416 unbinds and 416 binds, the broker at 57 % of a core,
// every RESUME waiting for its key's bind). While a hold is on, the binding table keeps released keys
// bound until the hold ends, and every further mass release extends it. Ordinary churn (a few users
// leaving) never starts one: it takes `minReleases` and `fraction` of the references held a second ago.

export interface MassReleaseOptions {
  /** How long released keys stay bound after a mass release (0 = never hold). */
  holdMs: number;
  /** Share of the references held at the start of a one-second window that must go within it. Default 0.25. */
  fraction?: number;
  /** Releases within the window needed at least, whatever the share. Default 64. */
  minReleases?: number;
}

const WINDOW_MS = 1000;

export class MassReleaseDetector {
  readonly #holdMs: number;
  readonly #fraction: number;
  readonly #minReleases: number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #referencesAtWindowStart = 0;
  #releasesInWindow = 0;
  #holdUntil = 0;

  constructor(options: MassReleaseOptions) {
    this.#holdMs = options.holdMs;
    this.#fraction = options.fraction ?? 0.25;
    this.#minReleases = options.minReleases ?? 64;
    if (!(this.#holdMs >= 0)) throw new RangeError('holdMs must be >= 0');
    if (!(this.#fraction > 0 && this.#fraction <= 1)) throw new RangeError('fraction must be in (0, 1]');
    if (!(this.#minReleases >= 1)) throw new RangeError('minReleases must be >= 1');
  }

  /**
   * Counts one release; `referencesBefore` = references held just before it, `now` = performance.now().
   * Returns true when this release started a hold (not when it extended one).
   */
  onRelease(referencesBefore: number, now: number): boolean {
    if (this.#holdMs === 0) return false;
    if (now - this.#windowStart >= WINDOW_MS) {
      this.#windowStart = now;
      this.#referencesAtWindowStart = referencesBefore;
      this.#releasesInWindow = 0;
    }
    this.#releasesInWindow += 1;
    const threshold = Math.max(this.#minReleases, this.#fraction * this.#referencesAtWindowStart);
    if (this.#releasesInWindow < threshold) return false;
    const started = !this.holding(now);
    this.#holdUntil = now + this.#holdMs;
    return started;
  }

  /** Whether released keys are being held bound at `now`. */
  holding(now: number): boolean {
    return now < this.#holdUntil;
  }

  /** performance.now() at which the current hold ends (in the past when none is on). */
  get holdUntil(): number {
    return this.#holdUntil;
  }
}
