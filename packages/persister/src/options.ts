// The persister's options: what createPersister is given, and the same resolved once — defaults
// filled in, every number checked — and frozen.

import type { Logger } from '@chat/protocol';
import { InvalidArgumentError, type Router } from '@chat/router';
import type { Store } from '@chat/store';
import type { Registry } from 'prom-client';

export interface PersisterOptions {
  router: Router;
  store: Store;
  registry: Registry;
  logger: Logger;
  /** Deliveries in flight (AMQP prefetch). Default 2000. */
  prefetch?: number;
  /** Start a batch at once at this many writes. Default 500. */
  batchSize?: number;
  /** Start a partial batch at most once per this many ms (after a quiet spell: at once). Default 20 ms. */
  batchMs?: number;
  /**
   * Group commit: at most this many batches are stored and dispatched at once; what arrives meanwhile
   * waits and goes as one batch when one finishes (a full batch too: the prefetch bounds the wait). So
   * batches grow with the load instead of the number of store calls, dispatch messages and gateway
   * deliveries, each of which costs the broker or the store per call, not per write. Default 2; 0 = no limit.
   */
  maxBatchesInFlight?: number;
  /** Content limit in code points. Default 4000. */
  maxContentLength?: number;
  /**
   * AMQP users whose durable writes are stored (the broker-checked `user_id` of each write); writes
   * from anyone else are dead-lettered as `writer_not_allowed`. Default: the router's own AMQP user.
   */
  writers?: readonly string[];
  /** Backoff after a transient failure: first and longest pause. Defaults 100 ms and 5 s. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface ResolvedPersisterOptions {
  readonly prefetch: number;
  readonly batchSize: number;
  readonly batchMs: number;
  /** 0: no limit. */
  readonly maxBatchesInFlight: number;
  readonly maxContentLength: number;
  /** undefined: any writer (the router stamps no AMQP user, so there is none to compare). */
  readonly writers: readonly string[] | undefined;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

function integer(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got ${value}`);
  }
  return value;
}

/** Validates the tunables once and freezes them; throws InvalidArgumentError naming a bad one. */
export function resolvePersisterOptions(options: PersisterOptions): ResolvedPersisterOptions {
  const ownUser = options.router.options.amqpUser;
  const writers = options.writers ?? (ownUser === undefined ? undefined : [ownUser]);
  const retryMinMs = integer('retryMinMs', options.retryMinMs ?? 100, 1);
  const retryMaxMs = integer('retryMaxMs', options.retryMaxMs ?? 5000, 1);
  if (retryMaxMs < retryMinMs) throw new InvalidArgumentError('retryMaxMs must be at least retryMinMs');
  return Object.freeze({
    prefetch: integer('prefetch', options.prefetch ?? 2000, 1),
    batchSize: integer('batchSize', options.batchSize ?? 500, 1),
    batchMs: integer('batchMs', options.batchMs ?? 20, 0),
    maxBatchesInFlight: integer('maxBatchesInFlight', options.maxBatchesInFlight ?? 2, 0),
    maxContentLength: integer('maxContentLength', options.maxContentLength ?? 4000, 1),
    writers: writers === undefined ? undefined : Object.freeze([...writers]),
    retryMinMs,
    retryMaxMs,
  });
}
