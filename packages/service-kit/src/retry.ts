// The one retry loop of the services: run an operation until it succeeds, pausing between attempts.
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Whether a failure is worth another attempt; a failure it refuses is thrown. Default: every failure. */
  shouldRetry?: (err: unknown) => boolean;
  /** The pause after failed attempt `attempt` (1, 2, …). */
  delayMs: (attempt: number) => number;
  /** Told of each failure that will be retried, before the pause. */
  onRetry?: (err: unknown, attempt: number) => void;
  /** How to pause; default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** The default pause: Node's own promise timer. */
export { sleep };

/** Runs `op` until it resolves (its value is returned) or fails in a way `shouldRetry` refuses (thrown). Never gives up otherwise. */
export async function retryUntil<T>(op: () => Promise<T>, options: RetryOptions): Promise<T> {
  const pause = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (options.shouldRetry && !options.shouldRetry(err)) throw err;
      options.onRetry?.(err, attempt);
      await pause(options.delayMs(attempt));
    }
  }
}

/** Exponential backoff: `minMs`, doubled per attempt, at most `maxMs`. */
export function exponentialDelay(minMs: number, maxMs: number): (attempt: number) => number {
  return (attempt) => Math.min(minMs * 2 ** Math.min(attempt - 1, 30), maxMs);
}
