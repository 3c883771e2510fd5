// One batch through the durable path: validate, store, dispatch, then ack — nothing is delivered
// that is not stored, and nothing is acked that is not delivered. Invalid writes and writes the store
// refuses for good are dead-lettered; a failure that is neither transient nor one bad write (e.g. the
// router was closed) leaves the whole batch unacked for the broker to redeliver.

import type { Logger } from '@chat/protocol';
import type { DurableDelivery } from '@chat/router';
import type { DeadLetter } from './dead-letter.js';
import type { DispatchBatch } from './dispatch.js';
import type { PersisterMetrics } from './metrics.js';
import type { StoreWrites, WriteItem } from './store-writes.js';
import { type Turn, Turns } from './turns.js';
import { validateWrite } from './validate.js';

/** A delivery of the persist queue, and when it arrived (`performance.now()`). */
export interface Received {
  delivery: DurableDelivery;
  receivedAt: number;
}

type Valid = Received & WriteItem;

export interface BatchDeps {
  maxContentLength: number;
  storeWrites: StoreWrites;
  dispatch: DispatchBatch;
  deadLetter: DeadLetter;
  metrics: PersisterMetrics;
  logger: Pick<Logger, 'error'>;
  /** Told when a batch is over (acked, dead-lettered or requeued), with its size. */
  onSettled: (count: number) => void;
}

/**
 * The batch processor. Batches may run concurrently; their edits and deletes apply, and their events
 * are published, in the order the batches were started. The returned promise never rejects.
 */
export function createBatchProcessor(deps: BatchDeps): (batch: Received[]) => Promise<void> {
  const { metrics, storeWrites } = deps;
  const dispatchTurns = new Turns();
  const changeTurns = new Turns();

  /** Edits and deletes, one at a time after the previous batch's: an edit's event then carries the
   * state after every change queued before it (never an edit of a deleted message). */
  async function applyChanges(items: Valid[], turn: Turn): Promise<Valid[]> {
    if (items.length === 0) {
      // A batch without any waits for nobody (its turn passes on once the previous batch's has).
      turn.passWhenReady();
      return [];
    }
    await turn.ready;
    const applied: Valid[] = [];
    try {
      for (const item of items) if (await storeWrites.storeChange(item)) applied.push(item);
    } finally {
      turn.pass();
    }
    return applied;
  }

  return async (batch) => {
    const started = performance.now();
    metrics.batchSize.observe(batch.length);
    const changeTurn = changeTurns.next();
    const dispatchTurn = dispatchTurns.next();
    try {
      const valid: Valid[] = [];
      const invalid: Array<Promise<void>> = [];
      for (const item of batch) {
        if (item.delivery.redelivered) metrics.redeliveries.inc();
        const v = validateWrite(item.delivery.envelope, deps.maxContentLength);
        if ('reason' in v) invalid.push(deps.deadLetter(item.delivery, v.reason));
        else valid.push({ ...item, write: v });
      }
      // The memberships are read while the batch is stored (dispatch.ts): a rejection is seen below.
      const audience = deps.dispatch.readAudience(new Set(valid.map((i) => i.write.channel_id)));
      audience.catch(() => {});
      const insertStart = performance.now();
      const creates = await storeWrites.storeCreates(valid.filter((i) => i.write.kind === 'create'));
      const changes = await applyChanges(
        valid.filter((i) => i.write.kind !== 'create'),
        changeTurn,
      );
      metrics.insertSeconds.observe((performance.now() - insertStart) / 1000);
      // Keep the batch's order for delivery.
      const stored = new Set([...creates, ...changes]);
      const ordered = valid.filter((i) => stored.has(i));
      const dispatchStart = performance.now();
      await deps.dispatch.publish(
        ordered.map((i) => i.write),
        audience,
        dispatchTurn,
      );
      metrics.dispatchSeconds.observe((performance.now() - dispatchStart) / 1000);
      await Promise.all(invalid);
      const now = performance.now();
      for (const item of ordered) {
        item.delivery.ack();
        metrics.stored.inc({ type: item.delivery.envelope.type });
        metrics.loopSeconds.observe((now - item.receivedAt) / 1000);
      }
    } catch (err) {
      deps.logger.error({ err: (err as Error).message }, 'batch failed; its writes will be redelivered');
      for (const item of batch) item.delivery.requeue();
    } finally {
      // Whatever happened, the next batch may go on (once this one's turns have come).
      dispatchTurn.passWhenReady();
      changeTurn.passWhenReady();
      deps.onSettled(batch.length);
      metrics.busySeconds.inc((performance.now() - started) / 1000);
    }
  };
}
