// Update semantics of the MongoDB stand-in: upsert seeds, Int64-exact arithmetic, and the
// refusals the server makes (immutable _id, conflicting paths, scalars used as containers).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandError } from '../../src/mongo/errors.js';
import { applyUpdate, upsertSeed } from '../../src/mongo/update.js';

test('an upsert starts from the equalities of the filter', () => {
  assert.deepEqual(upsertSeed({ a: 1, 'b.c': 2, d: { $gt: 1 }, e: { $eq: 'x' }, $and: [{ f: 3n }], $or: [{ g: 1 }] }), {
    a: 1,
    b: { c: 2 },
    e: 'x',
    f: 3n,
  });
});

test('$inc keeps Int64 exact and turns integers into doubles only when given a double', () => {
  const doc = { _id: 1, big: 264905529753620487n, small: 1 };
  const next = applyUpdate(doc, { $inc: { big: 1, small: 1n, fresh: 2 } }, { isInsert: false });
  assert.deepEqual(next, { _id: 1, big: 264905529753620488n, small: 2n, fresh: 2 });
  assert.deepEqual(applyUpdate(doc, { $inc: { small: 0.5 } }, { isInsert: false }).small, 1.5);
  assert.deepEqual(doc, { _id: 1, big: 264905529753620487n, small: 1 }, 'the original is not mutated');
});

test('updates refuse to change _id, to touch one path twice, or to treat a scalar as a container', () => {
  const doc = { _id: 1, a: 1 };
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof CommandError ? err.code : err;
    }
    return undefined;
  };
  assert.equal(
    code(() => applyUpdate(doc, { $set: { _id: 2 } }, { isInsert: false })),
    66,
  );
  assert.equal(
    code(() => applyUpdate(doc, { _id: 2, a: 3 }, { isInsert: false })),
    66,
  );
  assert.equal(
    code(() => applyUpdate(doc, { $set: { a: 2 }, $inc: { a: 1 } }, { isInsert: false })),
    40,
  );
  assert.equal(
    code(() => applyUpdate(doc, { $set: { 'a.b': 2 } }, { isInsert: false })),
    28,
  );
  assert.equal(
    code(() => applyUpdate(doc, { $push: { a: 2 } }, { isInsert: false })),
    2,
  );
  assert.deepEqual(applyUpdate(doc, { b: 2 }, { isInsert: false }), { _id: 1, b: 2 });
  assert.deepEqual(applyUpdate(doc, { $set: { _id: 1 } }, { isInsert: false }), doc);
});
