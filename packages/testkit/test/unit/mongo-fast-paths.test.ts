// The stand-in's fast paths must answer exactly as the general paths they skip: `_id` lookups
// (id-lookup.ts) as the scan through mingo's matcher, one-path projections (simple-projection.ts)
// as mingo's $project — field order included — and `$max`/`$min` updates (changedByUpdate) with
// the same document and the same "modified" verdict as comparing the serialized versions. Data and
// queries are random (seeded) over mixed BSON types.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BSON, Code, Decimal128, Long, ObjectId, Timestamp } from 'bson';
import type { Doc } from '../../src/mongo/bson-values.js';
import { idLookupKeys } from '../../src/mongo/id-lookup.js';
import { compileFilter, mayHoldBigInt, mingoProject, projectDocs } from '../../src/mongo/query.js';
import { simpleProjection } from '../../src/mongo/simple-projection.js';
import { Collection } from '../../src/mongo/store.js';
import { applyUpdate, changedByUpdate, sameDocument } from '../../src/mongo/update.js';
import { seededRandom } from './seeded-random.js';

const random = seededRandom(42);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

const BIG = 264905529753620487n;
/** `_id` values: the same value in several numeric types, strings, ObjectIds, dates, booleans, subdocuments. */
const IDS: unknown[] = [
  'a',
  'b',
  'A',
  '',
  BIG,
  BIG + 1n,
  5,
  5n,
  5.5,
  -0,
  new ObjectId('0123456789abcdef01234567'),
  new ObjectId('0123456789abcdef01234568'),
  new Date(1000),
  new Date(1001),
  true,
  false,
  null,
  { k: 1 },
  new Decimal128('5'),
];
/** What filters ask for: the stored values plus equal ones of other types and ones never stored. */
const WANTED: unknown[] = [
  ...IDS,
  5.0,
  BIG + 2n,
  'c',
  new ObjectId('0123456789abcdef01234569'),
  new Date(1000),
  0,
  /a/,
];

/** Fresh copies, so that lookups never find a document by object identity. */
function copy(v: unknown): unknown {
  if (v instanceof ObjectId) return new ObjectId(v.toHexString());
  if (v instanceof Date) return new Date(v.getTime());
  return v;
}

function canon(docs: Doc[]): string {
  return docs.map((d) => Buffer.from(BSON.serialize(d)).toString('hex')).join(' ');
}

test('_id equality and $in lookups give the scan’s documents in the scan’s order', () => {
  const coll = new Collection('db', 'c');
  let stored = 0;
  for (const id of [...IDS].sort(() => random() - 0.5)) {
    try {
      coll.insert({ _id: copy(id), seq: stored });
      stored++;
    } catch {
      // 5 and 5n (and Decimal128 5) are one _id: the later ones are refused.
    }
  }
  assert.ok(stored >= IDS.length - 3);
  let fast = 0;
  for (let i = 0; i < 2000; i++) {
    const values = Array.from({ length: int(5) }, () => copy(pick(WANTED)));
    const shape = int(3);
    const filter =
      shape === 0
        ? { _id: values[0] ?? 'a' }
        : shape === 1
          ? { _id: { $eq: values[0] ?? 'a' } }
          : { _id: { $in: values } };
    const window = pick([
      {},
      { sort: { seq: -1 as const } },
      { skip: 1, limit: 2 },
      { sort: { seq: 1 as const }, limit: 1 },
    ]);
    if (idLookupKeys(filter)) fast++;
    let expected: Doc[] | Error;
    try {
      expected = coll.find({ filter, ...window, scan: true });
    } catch (err) {
      expected = err as Error;
    }
    if (expected instanceof Error) {
      assert.throws(() => coll.find({ filter, ...window }), { message: expected.message });
      continue;
    }
    assert.equal(canon(coll.find({ filter, ...window })), canon(expected), `filter ${String(Object.values(filter))}`);
  }
  assert.ok(fast > 500, `the fast path was taken ${fast} times`);
  // Not lookups: other fields, other operators, values with other equality semantics.
  for (const filter of [
    { _id: null },
    { _id: /a/ },
    { _id: { k: 1 } },
    { _id: [1] },
    { _id: Number.NaN },
    { _id: { $in: ['a', null] } },
    { _id: { $in: 'a' } },
    { _id: { $in: ['a'], $nin: ['b'] } },
    { _id: 'a', seq: 1 },
    { seq: 1 },
    { $or: [{ _id: 'a' }] },
  ]) {
    assert.equal(
      idLookupKeys(filter),
      undefined,
      JSON.stringify(filter, (_, v) => String(v)),
    );
  }
});

/** A random value for projected documents: subdocuments (often holding the path's next name), arrays, scalars. */
function value(depth: number): unknown {
  const r = int(12);
  if (depth < 3 && r < 4) {
    const out: Doc = {};
    for (const k of ['x', 'n', 'id', 'top'].filter(() => random() < 0.6)) out[k] = value(depth + 1);
    return out;
  }
  if (depth < 3 && r === 4) return Array.from({ length: int(3) }, () => value(depth + 1));
  return pick([1, 2.5, 'text', null, BIG, true, new Date(5), new ObjectId('0123456789abcdef01234567'), undefined]);
}

test('one-path projections give mingo’s documents, field order included', () => {
  const projections: Doc[] = [];
  for (const path of ['top', 'top.n', 'top.n.id', 'x.top', 'n']) {
    for (const id of [undefined, 1, 0, true, false, -1]) {
      for (const on of [1, true, 2, -1]) {
        const p: Doc =
          id === undefined ? { [path]: on } : random() < 0.5 ? { _id: id, [path]: on } : { [path]: on, _id: id };
        projections.push(p);
      }
    }
  }
  for (const p of projections) assert.ok(simpleProjection(p), JSON.stringify(p));
  for (let i = 0; i < 300; i++) {
    const docs: Doc[] = Array.from({ length: 20 }, (_, j) => {
      const doc: Doc = random() < 0.9 ? { _id: j } : {};
      for (const k of ['top', 'x', 'n'].filter(() => random() < 0.7)) doc[k] = value(0);
      return doc;
    });
    for (const p of [pick(projections), pick(projections)]) {
      const expected = mingoProject(docs, p);
      assert.equal(canon(projectDocs(docs, p)), canon(expected), JSON.stringify(p));
    }
  }
  // Other shapes stay with mingo.
  for (const p of [
    { a: 1, b: 1 },
    { a: 0 },
    { _id: 0 },
    { 'a.0': 1 },
    { $a: 1 },
    { a: '$b' },
    { a: { $slice: 1 } },
    { '_id.x': 1 },
  ]) {
    assert.equal(simpleProjection(p as Doc), undefined, JSON.stringify(p));
  }
});

test('$max/$min updates give applyUpdate’s document and the serialized comparison’s modified verdict', () => {
  const current = () =>
    pick([undefined, 1, 7, 7.5, BIG, 'text', null, true, { n: 3, id: 'm3' }, { n: 3, id: 'm4' }, [1]]);
  for (let i = 0; i < 3000; i++) {
    const doc: Doc = { _id: 'c' };
    const top = current();
    if (top !== undefined) doc.top = top;
    if (random() < 0.7) {
      const authors: Doc = {};
      const a = current();
      if (a !== undefined) authors.u1 = a;
      doc.authors = random() < 0.9 ? authors : 'scalar';
    }
    const arg = () => pick([2, 7, 7n, 8, 'text', 'zz', { n: 3, id: 'm3' }, { n: 4, id: 'm1' }, null, false]);
    const u: Doc = {};
    for (const op of random() < 0.5 ? ['$max'] : ['$max', '$min']) {
      u[op] = op === '$max' ? { top: arg(), 'authors.u1': arg() } : { 'authors.u2': arg() };
    }
    if (random() < 0.1) u.$set = { other: arg() };
    const ctx = { isInsert: false };
    let expected: Doc | Error;
    try {
      expected = applyUpdate(doc, u, ctx);
    } catch (err) {
      expected = err as Error;
    }
    if (expected instanceof Error) {
      assert.throws(() => changedByUpdate(doc, u, ctx), { message: expected.message });
      continue;
    }
    const got = changedByUpdate(doc, u, ctx);
    if (sameDocument(doc, expected)) assert.equal(got, undefined);
    else assert.equal(canon([got!]), canon([expected]));
  }
});

test('filters are compiled with the BigInt serialization only when they may hold a bigint', () => {
  for (const v of [
    { a: 1, b: 'x', c: [true, null, 2.5] },
    { a: { $in: [new Date(1), /x/, new ObjectId()] } },
    'x',
    5,
    null,
  ]) {
    assert.equal(mayHoldBigInt(v), false, String(v));
  }
  for (const v of [
    5n,
    { a: { $lt: BIG } },
    { $or: [{ a: 1 }, { b: [[2n]] }] },
    { a: new Code('x', { s: 1n }) },
    { a: new Timestamp({ t: 1, i: 1 }) },
    { a: Long.fromNumber(1) },
  ]) {
    assert.equal(mayHoldBigInt(v), true, String(v));
  }
  // Both kinds compile and match as before; the BigInt prototype is left as it was.
  const plain = compileFilter({ channel_id: { $in: ['c1', 'c2'] }, n: { $gt: 2 } });
  const big = compileFilter({ _id: { $gte: BIG }, n: 5 });
  assert.equal(plain({ channel_id: 'c2', n: 3 }), true);
  assert.equal(plain({ channel_id: 'c3', n: 3 }), false);
  assert.equal(big({ _id: BIG + 1n, n: 5n }), true);
  assert.equal(big({ _id: BIG - 1n, n: 5 }), false);
  assert.equal(Object.hasOwn(BigInt.prototype, 'toJSON'), false);
});

test('updates applied without mingo copy only what they write: no stored version ever changes', () => {
  const leaf = () => pick([1, 7n, 2.5, 'text', null, true, { n: 3, id: 'm3' }, [1, { n: 2 }], new Date(5)]);
  const paths = ['top', 'top.n', 'authors.u1', 'authors.u1.n', 'authors.u2', 'a.0', 'a.1.n', 'x.y.z'];
  for (let round = 0; round < 300; round++) {
    let doc: Doc = {
      _id: 'c',
      top: { n: 1, id: 'm1' },
      authors: { u1: { n: 1, id: 'm1' } },
      a: [1, { n: 2 }],
      keep: { deep: [{ k: 1 }] },
    };
    const versions: Array<{ doc: Doc; bytes: string }> = [{ doc, bytes: canon([doc]) }];
    for (let step = 0; step < 8; step++) {
      const u: Doc = {};
      const used = new Set<string>();
      for (const op of ['$max', '$min', '$inc', '$set', '$unset', '$setOnInsert'].filter(() => random() < 0.35)) {
        const path = pick(paths);
        if ([...used].some((p) => p === path || p.startsWith(`${path}.`) || path.startsWith(`${p}.`))) continue;
        used.add(path);
        u[op] = { [path]: op === '$inc' ? pick([1, 2n, 0.5]) : op === '$unset' ? '' : leaf() };
      }
      if (Object.keys(u).length === 0) u.$max = { 'authors.u3': leaf() };
      let next: Doc;
      try {
        next = applyUpdate(doc, u, { isInsert: false });
      } catch {
        continue; // the failure itself is the general path's (PathNotViable, TypeMismatch): nothing was written
      }
      // The same update on a deep copy of the document (nothing shared) gives the same bytes.
      assert.equal(
        canon([next]),
        canon([applyUpdate(structuredClone(doc), u, { isInsert: false })]),
        JSON.stringify(Object.keys(u)),
      );
      versions.push({ doc: next, bytes: canon([next]) });
      doc = next;
      for (const v of versions) assert.equal(canon([v.doc]), v.bytes, 'a stored version changed');
    }
  }
});
