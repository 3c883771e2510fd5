// BSON value semantics of the MongoDB stand-in: cross-type order, numeric equality across Int32,
// Int64 and Double, index keys, sort keys of arrays, and filters built on them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ObjectId } from 'bson';
import { canonicalKey, compareValues, pathValues, sortDocs } from '../../src/mongo/bson-values.js';
import { compileFilter } from '../../src/mongo/query.js';

test('values order by BSON type class first, then by value', () => {
  const date = new Date(0);
  const oid = new ObjectId('000000000000000000000001');
  const ascending = [null, Number.NaN, -1, 2n, 2.5, 3, 'a', 'b', { a: 1 }, [1], oid, false, true, date];
  const shuffled = [...ascending].reverse();
  assert.deepEqual(shuffled.sort(compareValues), ascending);
});

test('Int64 and numbers compare exactly, beyond 2^53', () => {
  assert.equal(compareValues(264905529753620487n, 264905529753620486n), 1);
  assert.equal(compareValues(5n, 5), 0);
  assert.equal(compareValues(9007199254740993n, 9007199254740992), 1);
  assert.equal(compareValues(1000000000000000000n, 264905529753620487n), 1);
});

test('index keys are equal exactly when the server sees equal values', () => {
  assert.equal(canonicalKey(5n), canonicalKey(5));
  assert.equal(canonicalKey([1, 'a']), canonicalKey([1n, 'a']));
  assert.notEqual(canonicalKey(5.5), canonicalKey(5));
  assert.notEqual(canonicalKey('5'), canonicalKey(5));
  assert.notEqual(canonicalKey({ a: 1, b: 2 }), canonicalKey({ b: 2, a: 1 }));
});

test('paths descend into arrays of subdocuments; sorting an array field uses its min or max', () => {
  const doc = { a: [{ b: 1 }, { b: [2, 3] }, { c: 4 }] };
  assert.deepEqual(pathValues(doc, 'a.b'), [1, [2, 3], 2, 3, undefined]);
  const docs = [
    { _id: 1, v: [5, 1] },
    { _id: 2, v: [3] },
    { _id: 3, v: 4 },
  ];
  assert.deepEqual(
    sortDocs(docs, { v: 1 }).map((d) => d._id),
    [1, 2, 3],
  );
  assert.deepEqual(
    sortDocs(docs, { v: -1 }).map((d) => d._id),
    [1, 3, 2],
  );
});

test('filters compare Int64 with numbers and match null against missing fields', () => {
  const docs = [{ _id: 264905529753620487n, n: 3n }, { _id: 2, n: 7 }, { _id: 3 }];
  const ids = (filter: object) => docs.filter(compileFilter(filter)).map((d) => d._id);
  assert.deepEqual(ids({ _id: { $gt: 9007199254740993n } }), [264905529753620487n]);
  assert.deepEqual(ids({ n: { $lt: 5 } }), [264905529753620487n]);
  assert.deepEqual(ids({ n: { $in: [3, 7n] } }), [264905529753620487n, 2]);
  assert.deepEqual(ids({ n: null }), [3]);
  assert.deepEqual(ids({ n: { $type: 'long' } }), [264905529753620487n]);
  assert.deepEqual(ids({ n: { $type: ['number'] } }), [264905529753620487n, 2]);
  assert.deepEqual(ids({ n: { $not: { $gte: 5 } } }), [264905529753620487n, 3]);
  assert.deepEqual(ids({ $or: [{ n: 7 }, { _id: 264905529753620487n }] }), [264905529753620487n, 2]);
});
