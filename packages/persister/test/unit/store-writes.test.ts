import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewMessage } from '@chat/store';
import { createStoreWrites, type MessageWrites } from '../../src/store-writes.js';
import { create, edit, instantRetry, item, permanent, recordingDeadLetter, remove, snowflake } from './fakes.js';

/** Messages in memory: appends refuse for good any batch holding a poison id; transient failures on demand. */
function memoryMessages(poison: Set<string>) {
  const stored = new Map<string, NewMessage>();
  const calls = { append: 0, edits: [] as unknown[], deletes: [] as unknown[] };
  let transientFailures = 0;
  const messages: MessageWrites = {
    async append(batch) {
      calls.append++;
      if (transientFailures > 0) {
        transientFailures--;
        throw new Error('connection reset');
      }
      if (batch.some((m) => poison.has(m.id))) throw permanent();
      let duplicates = 0;
      for (const m of batch) {
        if (stored.has(m.id)) duplicates++;
        stored.set(m.id, m);
      }
      return { inserted: batch.length - duplicates, duplicates };
    },
    async applyEdit(e) {
      if (poison.has(e.message_id)) throw permanent('edit refused');
      calls.edits.push(e);
      return 'applied';
    },
    async applyDelete(e) {
      calls.deletes.push(e);
      return 'applied';
    },
  };
  const failNext = (n: number) => {
    transientFailures = n;
  };
  return { messages, stored, calls, failNext };
}

/** Store writes over `memoryMessages`, pausing instantly, dead-letters and duplicates recorded. */
function setup(poison: string[] = []) {
  const m = memoryMessages(new Set(poison));
  const dl = recordingDeadLetter();
  const r = instantRetry();
  const duplicates: number[] = [];
  const writes = createStoreWrites({
    messages: m.messages,
    retry: r.retry,
    deadLetter: dl,
    onDuplicates: (n) => duplicates.push(n),
  });
  return { m, dl, r, duplicates, writes };
}

describe('store writes', () => {
  it('stores a batch of creates in one call, counting the duplicates of a redelivery', async () => {
    const { m, dl, duplicates, writes } = setup();
    const items = [item(create('c1')), item(create('c1')), item(create('c2'))];
    assert.deepEqual(await writes.storeCreates(items), items);
    assert.deepEqual(await writes.storeCreates(items.slice(0, 1)), items.slice(0, 1));
    assert.equal(m.calls.append, 2);
    assert.deepEqual(duplicates, [0, 1]);
    assert.equal(m.stored.get(items[2]!.write.id)?.content, 'hello');
    assert.deepEqual(dl.reasons, []);
  });

  it('bisects a batch the store refuses for good: every good write lands, in order, and only the bad ones are dead-lettered', async () => {
    const items = Array.from({ length: 16 }, (_, i) => item(create('c1', `m${i}`)));
    const bad = [items[5]!, items[11]!];
    const { m, dl, writes } = setup(bad.map((i) => i.write.id));
    const stored = await writes.storeCreates(items);
    assert.deepEqual(
      stored,
      items.filter((i) => !bad.includes(i)),
    );
    assert.equal(m.stored.size, 14);
    assert.deepEqual(dl.reasons, [
      'store_rejected: Document failed validation',
      'store_rejected: Document failed validation',
    ]);
    assert.deepEqual(
      bad.map((i) => i.delivery.outcome),
      ['dead: store_rejected: Document failed validation', 'dead: store_rejected: Document failed validation'],
    );
    // Halving, not one call per write: 1 + 2 per level on the two paths to the bad writes (at most 1 + 2·2·log2 16).
    assert.ok(m.calls.append <= 17, `${m.calls.append} store calls`);
    assert.ok(m.calls.append < items.length, `${m.calls.append} store calls`);
  });

  it('retries a transient store failure with backoff instead of dead-lettering', async () => {
    const { m, dl, r, writes } = setup();
    m.failNext(3);
    const items = [item(create('c1'))];
    assert.deepEqual(await writes.storeCreates(items), items);
    assert.deepEqual(r.pauses, [100, 200, 400]);
    assert.deepEqual(r.retries, ['store', 'store', 'store']);
    assert.deepEqual(dl.reasons, []);
  });

  it('applies edits and deletes with their event id; a change refused for good is dead-lettered and reported', async () => {
    const refused = snowflake();
    const { m, dl, writes } = setup([refused]);
    const target = snowflake();
    const e = item(edit('c1', target, ' new text '));
    const d = item(remove('c1', target));
    assert.equal(await writes.storeChange(e), true);
    assert.equal(await writes.storeChange(d), true);
    assert.deepEqual(m.calls.edits, [
      { message_id: target, channel_id: 'c1', author_id: 'u1', event_id: e.write.id, content: 'new text' },
    ]);
    assert.deepEqual(m.calls.deletes, [
      { message_id: target, channel_id: 'c1', author_id: 'u1', event_id: d.write.id },
    ]);
    const bad = item(edit('c1', refused, 'x'));
    assert.equal(await writes.storeChange(bad), false);
    assert.deepEqual(dl.reasons, ['store_rejected: edit refused']);
  });
});
