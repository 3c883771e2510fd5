import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DurableWrite } from '@chat/router';
import { Registry } from 'prom-client';
import { createBatchProcessor, type Received } from '../../src/batch.js';
import type { DispatchBatch } from '../../src/dispatch.js';
import { createMetrics } from '../../src/metrics.js';
import type { StoreWrites } from '../../src/store-writes.js';
import type { ValidWrite } from '../../src/validate.js';
import { create, delivery, edit, type FakeDelivery, recordingDeadLetter, remove, silent, snowflake } from './fakes.js';

/** Store writes that accept everything but the creates of channel `refused`, recording the order of changes. */
function acceptingStore(log: string[], hold: { gate: Promise<void> }): StoreWrites {
  return {
    async storeCreates(items) {
      if (items.length > 0) await hold.gate;
      log.push(`store ${items.length} creates`);
      return items.filter((i) => i.write.channel_id !== 'refused');
    },
    async storeChange(i) {
      log.push(`apply ${i.write.kind} ${(i.write as { content?: string }).content ?? ''}`.trim());
      return true;
    },
  };
}

/** A dispatch that records its audience reads in `log` (failing them when `audienceFails`) and publishes with `publish`. */
function dispatchOf(publish: DispatchBatch['publish'], log: string[] = [], audienceFails = false): DispatchBatch {
  return {
    async readAudience(channelIds) {
      log.push(`audience ${[...channelIds].sort().join(',')}`);
      if (audienceFails) throw new Error('membership read failed for good');
      return new Map();
    },
    publish,
  };
}

function setup(dispatch: DispatchBatch, log: string[] = []) {
  const settled: number[] = [];
  const deadLetter = recordingDeadLetter();
  const hold = { gate: Promise.resolve() };
  const process = createBatchProcessor({
    maxContentLength: 10,
    storeWrites: acceptingStore(log, hold),
    dispatch,
    deadLetter,
    metrics: createMetrics(new Registry(), async () => 0),
    logger: silent,
    onSettled: (n) => settled.push(n),
  });
  const run = (envelopes: DurableWrite[]) => {
    const batch: Array<Received & { delivery: FakeDelivery }> = envelopes.map((e) => ({
      delivery: delivery(e),
      receivedAt: performance.now(),
    }));
    return { batch, done: process(batch) };
  };
  /** Holds every later storeCreates call until `gate` resolves. */
  const holdCreates = (gate: Promise<void>) => {
    hold.gate = gate;
  };
  return { run, settled, deadLetter, log, holdCreates };
}

describe('one batch: validate, store, dispatch, ack', () => {
  it('acks stored writes only after their dispatch, dead-letters invalid ones, and dispatches in batch order', async () => {
    const log: string[] = [];
    const dispatched: ValidWrite[][] = [];
    const s = setup(
      dispatchOf(async (writes, _audience, turn) => {
        await turn.ready;
        log.push('dispatch');
        dispatched.push([...writes]);
        turn.pass();
      }, log),
      log,
    );
    const target = snowflake();
    const { batch, done } = s.run([
      create('c1', 'a'),
      create('c1', 'far too long for ten'),
      edit('c1', target, 'b'),
      create('refused', 'c'),
      { ...create('c1', 'd'), id: 'not-a-snowflake' },
      remove('c1', target),
    ]);
    await done;
    assert.deepEqual(
      batch.map((i) => i.delivery.outcome),
      ['acked', 'dead: content_too_long', 'acked', 'pending', 'dead: invalid_id', 'acked'],
    );
    assert.deepEqual(
      dispatched[0]!.map((w) => w.kind),
      ['create', 'update', 'delete'],
    );
    assert.deepEqual(log, ['audience c1,refused', 'store 2 creates', 'apply update b', 'apply delete', 'dispatch']);
    assert.deepEqual(s.settled, [6]);
  });

  it('leaves the whole batch for redelivery when dispatch fails for good, and still lets the next batch go', async () => {
    let calls = 0;
    const s = setup(
      dispatchOf(async (_writes, _audience, turn) => {
        await turn.ready;
        turn.pass();
        if (calls++ === 0) throw new Error('router closed');
      }),
    );
    const first = s.run([create('c1', 'a'), create('c1', 'b')]);
    await first.done;
    assert.deepEqual(
      first.batch.map((i) => i.delivery.outcome),
      ['requeued', 'requeued'],
    );
    const second = s.run([create('c1', 'c')]);
    await second.done;
    assert.deepEqual(
      second.batch.map((i) => i.delivery.outcome),
      ['acked'],
    );
    assert.deepEqual(s.settled, [2, 1]);
  });

  it('applies a batch’s edits and deletes only after the previous batch’s, though batches run at once', async () => {
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const s = setup(
      dispatchOf(async (_w, _audience, turn) => {
        await turn.ready;
        turn.pass();
      }),
      log,
    );
    const id = snowflake();
    // The first batch's creates are stored only when the gate opens; the second batch has none.
    s.holdCreates(gate);
    const first = s.run([create('c1', 'slow'), edit('c1', id, 'one')]);
    const second = s.run([edit('c1', id, 'two')]);
    await new Promise((r) => setImmediate(r));
    assert.ok(!log.includes('apply update two'), 'the second batch waits for the first one’s changes');
    release();
    await Promise.all([first.done, second.done]);
    assert.deepEqual(
      log.filter((l) => l.startsWith('apply')),
      ['apply update one', 'apply update two'],
    );
  });

  it('reads the memberships while the batch is being stored, and dispatches with them', async () => {
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const audiences: Array<Map<string, unknown>> = [];
    const members = new Map([['c1', { members: ['a', 'b'], slots: [1, 2] }]]);
    const s = setup(
      {
        async readAudience(channelIds) {
          log.push(`audience ${[...channelIds].join(',')}`);
          return members;
        },
        async publish(_writes, audience, turn) {
          audiences.push(await audience);
          await turn.ready;
          turn.pass();
        },
      },
      log,
    );
    s.holdCreates(gate);
    const { batch, done } = s.run([create('c1', 'a')]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['audience c1'], 'the read starts before the store has answered');
    release();
    await done;
    assert.deepEqual(log, ['audience c1', 'store 1 creates']);
    assert.equal(audiences[0], members);
    assert.deepEqual(
      batch.map((i) => i.delivery.outcome),
      ['acked'],
    );
  });

  it('leaves the batch for redelivery when its memberships cannot be read, though it was stored', async () => {
    const log: string[] = [];
    const published: number[] = [];
    const s = setup(
      dispatchOf(
        async (writes, audience, turn) => {
          await audience;
          published.push(writes.length);
          await turn.ready;
          turn.pass();
        },
        log,
        true,
      ),
      log,
    );
    const first = s.run([create('c1', 'a'), create('c2', 'b')]);
    await first.done;
    assert.deepEqual(log, ['audience c1,c2', 'store 2 creates']);
    assert.deepEqual(published, [], 'nothing is published without its audience');
    assert.deepEqual(
      first.batch.map((i) => i.delivery.outcome),
      ['requeued', 'requeued'],
    );
  });
});
