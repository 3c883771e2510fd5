// Connecting to a dependency that may not be up yet at start (MongoDB): try until it answers.
import type { Logger } from '@chat/protocol';
import { retryUntil } from './retry.js';

export interface ConnectOptions {
  logger: Pick<Logger, 'warn'>;
  /** Pause after failed attempt n; default 500 ms × n, at most 5 s. */
  delayMs?: (attempt: number) => number;
  /** How to pause; default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `connect` until it resolves, logging each failure as `<what> not ready; retrying` with the
 * attempt number; never gives up (a service without its store has nothing else to do).
 */
export function connectWithRetry(what: string, connect: () => Promise<void>, options: ConnectOptions): Promise<void> {
  return retryUntil(connect, {
    delayMs: options.delayMs ?? ((attempt) => Math.min(attempt * 500, 5000)),
    onRetry: (err, attempt) =>
      options.logger.warn({ err: (err as Error).message, attempt }, `${what} not ready; retrying`),
    sleep: options.sleep,
  });
}
