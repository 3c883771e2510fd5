// Retrying the persister's calls to its store and its broker: a transient failure is retried with
// exponential backoff, forever (a write is never given up because a dependency is down: it waits in
// the queue, unacked); a permanent one is thrown to the caller.

import type { Logger } from '@chat/protocol';
import { exponentialDelay, retryUntil } from '@chat/service-kit';
import { isPermanentError } from '@chat/store';

export type RetryStage = 'store' | 'dispatch';

/** Runs `op` until it succeeds or fails with an error `transient` refuses (thrown). */
export type Retry = <T>(stage: RetryStage, op: () => Promise<T>, transient: (err: unknown) => boolean) => Promise<T>;

export interface RetryPolicy {
  minMs: number;
  maxMs: number;
  logger: Pick<Logger, 'warn'>;
  /** Told of every retry (the retries metric). */
  onRetry: (stage: RetryStage) => void;
  /** How to pause; default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** A store failure is transient unless MongoDB would repeat it forever (see isPermanentError). */
export const storeTransient = (err: unknown): boolean => !isPermanentError(err);

/** A router failure is transient when the router says so (`retryable`: a lost connection, a nack). */
export const routerTransient = (err: unknown): boolean => (err as { retryable?: boolean }).retryable === true;

/** Logs the first failure of an operation and every tenth after it, with its stage and attempt. */
export function createRetry(policy: RetryPolicy): Retry {
  const delayMs = exponentialDelay(policy.minMs, policy.maxMs);
  return (stage, op, transient) =>
    retryUntil(op, {
      shouldRetry: transient,
      delayMs,
      sleep: policy.sleep,
      onRetry: (err, attempt) => {
        policy.onRetry(stage);
        if (attempt === 1 || attempt % 10 === 0) {
          policy.logger.warn({ err: (err as Error).message, stage, attempt }, `${stage} failed; retrying with backoff`);
        }
      },
    });
}
