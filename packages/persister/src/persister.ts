// The durable path's consumer: batches deliveries of the persist queue, stores them, then
// dispatches them to the members' gateways, then acks — so nothing is delivered that is not
// stored, and nothing is acked that is not delivered. Throughput comes from concurrency: many
// deliveries in flight (prefetch), flushed in batches by size or after a few milliseconds, at most
// `maxBatchesInFlight` at once (what arrives meanwhile joins the next batch: group commit).
// The pieces: options.ts, batcher.ts (group commit), batch.ts (one batch: validate, store, dispatch,
// ack), store-writes.ts (storing also counts: @chat/store Messages.append), dispatch.ts, dead-letter.ts, retry.ts.
import { sleep } from '@chat/service-kit';
import { type BatchDeps, createBatchProcessor, type Received } from './batch.js';
import { Batcher } from './batcher.js';
import { createDeadLetter } from './dead-letter.js';
import { createDispatch } from './dispatch.js';
import { createMetrics, type PersisterMetrics } from './metrics.js';
import { type PersisterOptions, resolvePersisterOptions } from './options.js';
import { createReplyCounts, withReplyCounts } from './reply-counts.js';
import { createRetry } from './retry.js';
import { createStoreWrites } from './store-writes.js';

export type { PersisterOptions, ResolvedPersisterOptions } from './options.js';

export interface Persister {
  readonly metrics: PersisterMetrics;
  /** Starts consuming. */
  start(): Promise<void>;
  /**
   * Stops consuming, finishes and acks what is in flight, within `timeoutMs`; what is still unfinished
   * then is left unacked (RabbitMQ redelivers it to another persister). Resolves true when it drained.
   */
  stop(timeoutMs: number): Promise<boolean>;
  /** Writes received and not yet acked. */
  inFlight(): number;
}

/**
 * Consumes the persist queue (after `start`), at least once: every write is stored, then dispatched
 * to its channel's members (confirmed by the broker), then acked; an invalid write, or one MongoDB
 * refuses for good, is dead-lettered with its reason; any other failure leaves it unacked for
 * redelivery. A channel's writes are dispatched in queue order.
 */
export function createPersister(options: PersisterOptions): Persister {
  const { router, store, logger } = options;
  const o = resolvePersisterOptions(options);
  const metrics = createMetrics(options.registry, () => router.persistQueueDepth());
  const retry = createRetry({
    minMs: o.retryMinMs,
    maxMs: o.retryMaxMs,
    logger,
    onRetry: (stage) => metrics.retries.inc({ stage }),
  });
  const deadLetter = createDeadLetter({ retry, logger, metrics });
  let inFlight = 0;
  let stopping = false;
  const deps: BatchDeps = {
    maxContentLength: o.maxContentLength,
    // Stored writes keep what is derived from them before their dispatch and ack: message ordinals, the
    // channels' counts and the authors' read positions (in the store call itself), parents' reply counts.
    storeWrites: withReplyCounts(
      createStoreWrites({
        messages: store.messages,
        retry,
        deadLetter,
        onDuplicates: (n) => metrics.duplicates.inc(n),
      }),
      createReplyCounts({ replies: store.replies, retry }),
    ),
    dispatch: createDispatch({ router, channels: store.channels, messages: store.messages, retry }),
    deadLetter,
    metrics,
    logger,
    onSettled: (count) => {
      inFlight -= count;
      metrics.inFlight.set(inFlight);
    },
  };
  const batcher = new Batcher<Received>({
    batchSize: o.batchSize,
    batchMs: o.batchMs,
    maxBatches: o.maxBatchesInFlight,
    process: createBatchProcessor(deps),
  });

  return {
    metrics,
    inFlight: () => inFlight,
    async start() {
      await router.consumeDurable(
        (delivery) => {
          // Not taken while stopping: left unacked, the broker gives it to another persister when our channel closes.
          if (stopping) return;
          inFlight++;
          metrics.inFlight.set(inFlight);
          batcher.add({ delivery, receivedAt: performance.now() });
        },
        { prefetch: o.prefetch, writers: o.writers },
      );
    },
    async stop(timeoutMs: number) {
      if (stopping) return inFlight === 0;
      stopping = true;
      // Finish and ack what was taken, THEN cancel the consumer: RabbitMQ (3.10) quorum queues
      // return messages acked after basic.cancel to the queue, so acks must come first.
      const deadline = Date.now() + timeoutMs;
      let drained = false;
      for (;;) {
        batcher.flush();
        if (batcher.inProgress === 0 && inFlight === 0) {
          drained = true;
          break;
        }
        if (Date.now() >= deadline) break;
        await Promise.race([batcher.settled(), sleep(Math.min(50, Math.max(0, deadline - Date.now())))]);
      }
      await router.stopConsuming();
      return drained;
    },
  };
}
