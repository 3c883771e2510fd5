// Partial indexes with an `$exists: true` filter on the stand-in (src/mongo/partial-filter.ts): only the
// documents holding the field are in the index, a query uses it only when its conditions on that field
// cannot match a missing or null field, and what it returns is exactly what a scan returns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Doc } from '../../src/mongo/bson-values.js';
import { existsOnlyPaths } from '../../src/mongo/partial-filter.js';
import { Collection, type FindQuery } from '../../src/mongo/store.js';

const BASE = 264905529753620487n;

/** 300 messages in 3 channels; every third answers an earlier one, every fifth was edited. */
function messages(): Collection {
  const c = new Collection('db', 'messages');
  c.createIndex({
    key: { channel_id: 1, reply_to: 1, _id: -1 },
    name: 'channel_replies',
    partialFilterExpression: { reply_to: { $exists: true } },
  });
  c.createIndex({
    key: { channel_id: 1, updated_id: 1 },
    name: 'channel_changes',
    partialFilterExpression: { updated_id: { $exists: true } },
  });
  for (let i = 0; i < 300; i++) {
    const id = BASE + BigInt(i);
    const doc: Doc = { _id: id, channel_id: `c${i % 3}`, deleted: false };
    if (i % 3 === 1 && i > 10) doc.reply_to = BASE + BigInt(i % 9);
    if (i % 5 === 0) doc.updated_id = BASE + 1000n + BigInt(i);
    c.insert(doc);
  }
  return c;
}

function sameAsScan(c: Collection, q: FindQuery): Doc[] {
  const indexed = c.find(q);
  const scanned = c.find({ ...q, scan: true });
  assert.deepEqual(
    indexed.map((d) => d._id),
    scanned.map((d) => d._id),
  );
  return indexed;
}

test('only exists-only filters are planned: one field, several, or an $and of them', () => {
  assert.deepEqual(existsOnlyPaths({ a: { $exists: true } }), ['a']);
  assert.deepEqual(existsOnlyPaths({ a: { $exists: 1 }, 'b.c': { $exists: true } }), ['a', 'b.c']);
  assert.deepEqual(existsOnlyPaths({ $and: [{ a: { $exists: true } }, { b: { $exists: true } }] }), ['a', 'b']);
  assert.equal(existsOnlyPaths({ a: { $exists: false } }), undefined);
  assert.equal(existsOnlyPaths({ a: { $gt: 5 } }), undefined);
  assert.equal(existsOnlyPaths({ a: { $exists: true, $gt: 5 } }), undefined);
  assert.equal(existsOnlyPaths({ $or: [{ a: { $exists: true } }] }), undefined);
  assert.equal(existsOnlyPaths({}), undefined);
});

test('a query bounding the field to non-null values walks the partial index, with the scan’s result', () => {
  const c = messages();
  const replies: FindQuery = { filter: { channel_id: 'c1', reply_to: BASE + 1n, deleted: false }, sort: { _id: -1 } };
  assert.equal(c.plan(replies)?.indexName, 'channel_replies');
  assert.ok(sameAsScan(c, replies).length > 5);

  const changed: FindQuery = {
    filter: { channel_id: { $in: ['c0', 'c2'] }, updated_id: { $gt: BASE + 1100n }, _id: { $lte: BASE + 250n } },
    sort: { updated_id: 1 },
  };
  assert.equal(c.plan(changed)?.indexName, 'channel_changes');
  const found = sameAsScan(c, changed);
  assert.ok(found.length > 5);
  assert.ok(found.every((d) => typeof d.updated_id === 'bigint'));
});

test('a query that could match a missing field scans: the index lacks those documents', () => {
  const c = messages();
  for (const filter of [
    { channel_id: 'c1' },
    { channel_id: 'c1', reply_to: null },
    { channel_id: 'c1', reply_to: { $in: [BASE + 1n, null] } },
    { channel_id: 'c1', reply_to: { $exists: false } },
  ]) {
    assert.equal(
      c.plan({ filter }),
      undefined,
      JSON.stringify(filter, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)),
    );
    sameAsScan(c, { filter });
  }
  // The messages that answer nothing are found (by the scan), not lost with the index.
  assert.equal(c.find({ filter: { channel_id: 'c1', reply_to: null } }).length, 4);
});

test('documents move in and out of the partial index as updates set or remove the field', () => {
  const c = messages();
  const q: FindQuery = { filter: { channel_id: 'c1', updated_id: { $gt: 0n } } };
  const before = sameAsScan(c, q).length;
  const plain = c.find({ filter: { _id: BASE + 1n } })[0]!;
  assert.equal(plain.updated_id, undefined);
  c.replace(plain, { ...plain, updated_id: BASE + 5000n });
  assert.equal(sameAsScan(c, q).length, before + 1);
  const edited = c.find({ filter: { _id: BASE + 1n } })[0]!;
  const { updated_id: _dropped, ...without } = edited;
  c.replace(edited, without);
  assert.equal(sameAsScan(c, q).length, before);
  c.remove(c.find({ filter: { _id: BASE + 10n } })[0]!);
  assert.equal(sameAsScan(c, q).length, before - 1);
});
