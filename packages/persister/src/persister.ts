// The durable path's consumer: batches deliveries of the persist queue, stores them, then
// dispatches them to the members' gateways, then acks — so nothing is delivered that is not
// stored, and nothing is acked that is not delivered. Throughput comes from concurrency: many
// deliveries in flight (prefetch), flushed in batches by size or after a few milliseconds, at most
// `maxBatchesInFlight` at once (what arrives meanwhile joins the next batch: group commit).
import { type Logger, messageOf } from '@chat/protocol';
import type { DispatchEnvelope, DispatchTarget, DurableDelivery, Router } from '@chat/router';
import { isPermanentError, type Message, type Store } from '@chat/store';
import type { Registry } from 'prom-client';
import { createMetrics, type PersisterMetrics } from './metrics.js';
import { type ValidWrite, validateWrite } from './validate.js';

export interface PersisterOptions {
  router: Router;
  store: Store;
  registry: Registry;
  logger: Logger;
  /** Deliveries in flight (AMQP prefetch). Default 2000. */
  prefetch?: number;
  /** Flush a batch at this many writes. Default 500. */
  batchSize?: number;
  /** …or this long after its first write. Default 5 ms. */
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

interface Item {
  delivery: DurableDelivery;
  receivedAt: number;
  write?: ValidWrite;
}

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createPersister(options: PersisterOptions): Persister {
  const { router, store, logger } = options;
  const batchSize = options.batchSize ?? 500;
  const batchMs = options.batchMs ?? 5;
  const maxBatches = options.maxBatchesInFlight ?? 2;
  const maxContent = options.maxContentLength ?? 4000;
  const retryMin = options.retryMinMs ?? 100;
  const retryMax = options.retryMaxMs ?? 5000;
  const writers = options.writers ?? (router.options.amqpUser === undefined ? undefined : [router.options.amqpUser]);
  const metrics = createMetrics(options.registry, () => router.persistQueueDepth());

  let pending: Item[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;
  let stopping = false;
  const batches = new Set<Promise<void>>();
  /** Resolves when the last batch started has handed its events to the router (see dispatchAll). */
  let dispatchTurn: Promise<void> = Promise.resolve();
  /** Resolves when the last batch started has applied its edits and deletes. */
  let lastChanges: Promise<void> = Promise.resolve();

  /** Runs `op` until it succeeds, pausing with exponential backoff after transient failures. */
  async function withRetry<T>(
    stage: 'store' | 'dispatch',
    op: () => Promise<T>,
    transient: (e: unknown) => boolean,
  ): Promise<T> {
    let delay = retryMin;
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (!transient(err)) throw err;
        metrics.retries.inc({ stage });
        if (attempt === 1 || attempt % 10 === 0) {
          logger.warn({ err: (err as Error).message, stage, attempt }, `${stage} failed; retrying with backoff`);
        }
        await sleep(delay);
        delay = Math.min(delay * 2, retryMax);
      }
    }
  }

  const routerTransient = (e: unknown) => (e as { retryable?: boolean }).retryable === true;
  // Only a refusal the server will repeat forever is given up on; anything else is retried.
  const storeTransient = (e: unknown) => !isPermanentError(e);

  async function deadLetter(item: Item, reason: string): Promise<void> {
    metrics.deadLetters.inc({ reason: reason.split(':')[0]! });
    logger.warn({ reason, id: item.delivery.envelope.id }, 'write dead-lettered');
    await withRetry('dispatch', () => item.delivery.deadLetter(reason), routerTransient);
  }

  /** Stores the creates; a batch the server rejects for good is split to find the poison. */
  async function storeCreates(items: Item[]): Promise<Item[]> {
    if (items.length === 0) return [];
    const toNew = (i: Item) => {
      const w = i.write as Extract<ValidWrite, { kind: 'create' }>;
      return {
        id: w.id,
        channel_id: w.channel_id,
        author: w.author,
        content: w.content,
        nonce: w.nonce,
        timestamp: w.timestamp,
      };
    };
    try {
      const res = await withRetry('store', () => store.messages.append(items.map(toNew)), storeTransient);
      metrics.duplicates.inc(res.duplicates);
      return items;
    } catch (err) {
      if (items.length === 1) {
        await deadLetter(items[0]!, `store_rejected: ${(err as Error).message}`.slice(0, 200));
        return [];
      }
      const ok: Item[] = [];
      for (const item of items) ok.push(...(await storeCreates([item])));
      return ok;
    }
  }

  async function storeChange(item: Item): Promise<Item | null> {
    const w = item.write!;
    try {
      await withRetry(
        'store',
        () =>
          w.kind === 'update'
            ? store.messages.applyEdit({
                message_id: w.message_id,
                channel_id: w.channel_id,
                author_id: w.author_id,
                event_id: w.id,
                content: w.content,
              })
            : store.messages.applyDelete({
                message_id: (w as { message_id: string }).message_id,
                channel_id: w.channel_id,
                author_id: (w as { author_id: string }).author_id,
                event_id: w.id,
              }),
        storeTransient,
      );
      return item;
    } catch (err) {
      await deadLetter(item, `store_rejected: ${(err as Error).message}`.slice(0, 200));
      return null;
    }
  }

  /** The delivery envelope for a stored write, or null when there is nothing to deliver. */
  async function envelopeFor(w: ValidWrite): Promise<DispatchEnvelope | null> {
    if (w.kind === 'create') {
      const data: Message = messageOf(w);
      return { v: 1, type: 'dispatch', event: 'MESSAGE_CREATE', channel_id: w.channel_id, data };
    }
    if (w.kind === 'update') {
      // Deliver the stored state: an edit that lost to a newer one or to a delete delivers nothing
      // stale, and a redelivered edit delivers the same state again (clients replace by id).
      const current = await withRetry('store', () => store.messages.get(w.channel_id, w.message_id), storeTransient);
      return current
        ? { v: 1, type: 'dispatch', event: 'MESSAGE_UPDATE', channel_id: w.channel_id, data: current }
        : null;
    }
    return {
      v: 1,
      type: 'dispatch',
      event: 'MESSAGE_DELETE',
      channel_id: w.channel_id,
      data: { id: w.message_id, channel_id: w.channel_id },
    };
  }

  /**
   * Publishes the stored writes' events. `turn` resolves when the previous batch has handed its
   * events to the router: batches are stored concurrently, but their events are published in batch
   * order, so a channel's events reach the gateways in queue order.
   */
  async function dispatchAll(items: Item[], turn: Promise<void>, passTurn: () => void): Promise<void> {
    const channels = [...new Set(items.map((i) => i.write!.channel_id))];
    const audience = new Map<string, { slots: number[]; members: string[] }>();
    await Promise.all(
      channels.map(async (c) => {
        audience.set(c, await withRetry('store', () => store.channels.membership(c), storeTransient));
      }),
    );
    const envelopes = await Promise.all(items.map((i) => envelopeFor(i.write!)));
    const bySlot = router.options.granularity === 'slot';
    const dispatches: Array<{ envelope: DispatchEnvelope; target: DispatchTarget; id: string }> = [];
    envelopes.forEach((env, i) => {
      if (!env) return;
      const a = audience.get(env.channel_id!)!;
      // The write's event id is the dispatch id: a re-dispatch after a redelivery is recognised by
      // the gateways as the same delivery.
      dispatches.push({
        envelope: env,
        target: bySlot ? { slots: a.slots } : { users: a.members },
        id: items[i]!.write!.id,
      });
    });
    // The whole batch as bundles (one broker message per 256 events, in batch order): a broker
    // message costs far more than its bytes. A retry re-publishes the batch; gateways drop the
    // records they already handed over by id.
    await turn;
    const published = withRetry('dispatch', () => router.dispatchMany(dispatches, { confirm: true }), routerTransient);
    passTurn();
    await published;
  }

  async function processBatch(batch: Item[]): Promise<void> {
    const started = performance.now();
    metrics.batchSize.observe(batch.length);
    const changeTurn = lastChanges;
    let passChangeTurn!: () => void;
    lastChanges = new Promise<void>((resolve) => {
      passChangeTurn = resolve;
    });
    const turn = dispatchTurn;
    let passTurn!: () => void;
    dispatchTurn = new Promise<void>((resolve) => {
      passTurn = resolve;
    });
    try {
      const valid: Item[] = [];
      const invalid: Array<Promise<void>> = [];
      for (const item of batch) {
        if (item.delivery.redelivered) metrics.redeliveries.inc();
        const v = validateWrite(item.delivery.envelope, maxContent);
        if ('reason' in v) invalid.push(deadLetter(item, v.reason));
        else {
          item.write = v;
          valid.push(item);
        }
      }
      const insertStart = performance.now();
      const creates = await storeCreates(valid.filter((i) => i.write!.kind === 'create'));
      // Edits and deletes apply one at a time, after the previous batch's: an edit's event then
      // carries the state after every change queued before it (never an edit of a deleted message).
      // A batch without any waits for nobody (its turn passes on once the previous batch's has).
      const changes: Item[] = [];
      const changeItems = valid.filter((i) => i.write!.kind !== 'create');
      if (changeItems.length > 0) {
        await changeTurn;
        try {
          for (const item of changeItems) {
            const done = await storeChange(item);
            if (done) changes.push(done);
          }
        } finally {
          passChangeTurn();
        }
      } else {
        void changeTurn.then(passChangeTurn);
      }
      metrics.insertSeconds.observe((performance.now() - insertStart) / 1000);
      // Keep the batch's order for delivery.
      const stored = new Set([...creates, ...changes]);
      const ordered = valid.filter((i) => stored.has(i));
      const dispatchStart = performance.now();
      await dispatchAll(ordered, turn, passTurn);
      metrics.dispatchSeconds.observe((performance.now() - dispatchStart) / 1000);
      await Promise.all(invalid);
      const now = performance.now();
      for (const item of ordered) {
        item.delivery.ack();
        metrics.stored.inc({ type: item.delivery.envelope.type });
        metrics.loopSeconds.observe((now - item.receivedAt) / 1000);
      }
    } catch (err) {
      // Not transient and not a single bad write (e.g. the router was closed): leave the batch
      // unacked; the broker redelivers it.
      logger.error({ err: (err as Error).message }, 'batch failed; its writes will be redelivered');
      for (const item of batch) item.delivery.requeue();
    } finally {
      // Whatever happened, the next batch may go on (once this one's turns have come).
      void turn.then(passTurn);
      void changeTurn.then(passChangeTurn);
      inFlight -= batch.length;
      metrics.inFlight.set(inFlight);
      metrics.busySeconds.inc((performance.now() - started) / 1000);
    }
  }

  /** Starts a batch of what is pending, unless `maxBatchesInFlight` are running (one's end flushes again). */
  function flush(): void {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (pending.length === 0) return;
    if (maxBatches > 0 && batches.size >= maxBatches) return;
    const batch = pending.length > batchSize ? pending.splice(0, batchSize) : pending;
    if (batch === pending) pending = [];
    const p = processBatch(batch);
    batches.add(p);
    void p.finally(() => {
      batches.delete(p);
      if (pending.length > 0) flush();
    });
  }

  function onDelivery(delivery: DurableDelivery): void {
    if (stopping) {
      // Not taken: left unacked, the broker gives it to another persister when our channel closes.
      return;
    }
    inFlight++;
    metrics.inFlight.set(inFlight);
    pending.push({ delivery, receivedAt: performance.now() });
    if (pending.length >= batchSize) flush();
    else if (!timer) timer = setTimeout(flush, batchMs);
  }

  return {
    metrics,
    inFlight: () => inFlight,
    async start() {
      await router.consumeDurable(onDelivery, { prefetch: options.prefetch ?? 2000, writers });
    },
    async stop(timeoutMs: number) {
      if (stopping) return inFlight === 0;
      stopping = true;
      // Finish and ack what was taken, THEN cancel the consumer: RabbitMQ (3.10) quorum queues
      // return messages acked after basic.cancel to the queue, so acks must come first.
      const deadline = Date.now() + timeoutMs;
      let drained = false;
      for (;;) {
        flush();
        if (batches.size === 0 && inFlight === 0) {
          drained = true;
          break;
        }
        if (Date.now() >= deadline) break;
        await Promise.race([Promise.all(batches), sleep(Math.min(50, Math.max(0, deadline - Date.now())))]);
      }
      await router.stopConsuming();
      return drained;
    },
  };
}
