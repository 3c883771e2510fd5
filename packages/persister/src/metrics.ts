// The persister's Prometheus metrics: the seed's panels (input vs output, lag, processing
// breakdown, work-time density) plus redeliveries and dead letters.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type PersisterMetrics = ReturnType<typeof createMetrics>;

export function createMetrics(registry: Registry, depth: () => Promise<number>) {
  const registers = [registry];
  return {
    batchSize: new Histogram({
      name: 'chat_persister_batch_size',
      help: 'Writes per flushed batch',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
      registers,
    }),
    insertSeconds: new Histogram({
      name: 'chat_persister_insert_seconds',
      help: 'Time to store one batch in MongoDB (inserts, edits, deletes; retries included)',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    dispatchSeconds: new Histogram({
      name: 'chat_persister_dispatch_seconds',
      help: 'Time to publish one batch of deliveries to the route exchanges, until confirmed',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    loopSeconds: new Histogram({
      name: 'chat_persister_loop_seconds',
      help: 'Whole loop per write: delivered by RabbitMQ → stored → dispatched → acked',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    busySeconds: new Counter({
      name: 'chat_persister_busy_seconds_total',
      help: 'Seconds spent processing batches, summed over concurrent batches (rate = work-time density)',
      registers,
    }),
    stored: new Counter({
      name: 'chat_persister_stored_total',
      help: 'Writes stored and dispatched, by type (message.create, message.update, message.delete)',
      labelNames: ['type'] as const,
      registers,
    }),
    duplicates: new Counter({
      name: 'chat_persister_duplicates_total',
      help: 'Creates whose id was already stored (redeliveries)',
      registers,
    }),
    redeliveries: new Counter({
      name: 'chat_persister_redeliveries_total',
      help: 'Deliveries flagged as redelivered by RabbitMQ',
      registers,
    }),
    deadLetters: new Counter({
      name: 'chat_persister_dead_letters_total',
      help: 'Writes moved to the dead-letter queue, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    retries: new Counter({
      name: 'chat_persister_retries_total',
      help: 'Retries after a transient failure, by stage (store, dispatch)',
      labelNames: ['stage'] as const,
      registers,
    }),
    inFlight: new Gauge({
      name: 'chat_persister_in_flight',
      help: 'Writes received and not yet acked',
      registers,
    }),
    queueDepth: new Gauge({
      name: 'chat_persister_queue_depth',
      help: 'Messages ready in the persist queue (lag), read from the broker at scrape time',
      registers,
      async collect() {
        try {
          this.set(await depth());
        } catch {
          // Broker unreachable: keep the last value rather than failing the scrape.
        }
      },
    }),
  };
}
