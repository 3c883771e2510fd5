// The replies queries of @chat/store (packages/store/src/replies.ts) on the stand-in, over a full
// (channel_id, reply_to, _id) index as the store declared it before 2026-12-04: the page and the
// count's $match are answered through it, with exactly the scan's result, including messages that are
// no replies (no reply_to: indexed as null, as on the server). The store's index is now partial (only
// replies in it): mongo-partial-index.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Doc } from '../../src/mongo/bson-values.js';
import { Collection, type FindQuery } from '../../src/mongo/store.js';

const BASE = 264905529753620487n;

function repliesCollection(): Collection {
  const c = new Collection('db', 'messages');
  c.createIndex({ key: { channel_id: 1, bucket: 1, _id: -1 }, name: 'channel_bucket_id' });
  c.createIndex({ key: { channel_id: 1, updated_id: 1 }, name: 'channel_updated' });
  c.createIndex({ key: { channel_id: 1, reply_to: 1, _id: -1 }, name: 'channel_reply_to_id' });
  for (let i = 0; i < 400; i++) {
    const id = BASE + BigInt(i);
    const doc: Doc = { _id: id, channel_id: `c${i % 3}`, bucket: 1, deleted: i % 7 === 0, updated_id: id };
    // Every second message answers one of the first five of its channel.
    if (i % 2 === 1 && i > 15) doc.reply_to = BASE + BigInt(i % 3) + 3n * BigInt(i % 5);
    c.insert(doc);
  }
  return c;
}

function sameAsScan(c: Collection, q: FindQuery): Doc[] {
  const indexed = c.find(q);
  const scanned = c.find({ ...q, scan: true });
  assert.equal(indexed.length, scanned.length);
  for (const [i, d] of indexed.entries()) assert.ok(d === scanned[i], `document ${i} differs from the scan's`);
  return indexed;
}

test('a page of replies walks the (channel_id, reply_to, _id) index newest first and stops at the limit', () => {
  const c = repliesCollection();
  const parent = BASE + 3n;
  const q: FindQuery = {
    filter: { channel_id: 'c0', reply_to: parent, deleted: false, _id: { $lt: BASE + 300n } },
    sort: { _id: -1 },
    limit: 5,
  };
  const plan = c.plan(q);
  assert.equal(plan?.indexName, 'channel_reply_to_id');
  assert.equal(plan?.sortProvided, true);
  const page = sameAsScan(c, q);
  assert.equal(page.length, 5);
  for (const d of page) assert.equal(d.reply_to, parent);
  assert.ok(
    page.every((d, i) => i === 0 || (d._id as bigint) < (page[i - 1]!._id as bigint)),
    'newest first',
  );
});

test("the reply count's filter is answered through the index, the same as a scan", () => {
  const c = repliesCollection();
  const q: FindQuery = { filter: { channel_id: 'c1', reply_to: BASE + 1n, deleted: false } };
  assert.equal(c.plan(q)?.indexName, 'channel_reply_to_id');
  assert.ok(sameAsScan(c, q).length > 5);
  // A message that answers nothing is never a reply of anything.
  assert.equal(sameAsScan(c, { filter: { channel_id: 'c1', reply_to: null, _id: BASE + 1n } }).length, 1);
});
