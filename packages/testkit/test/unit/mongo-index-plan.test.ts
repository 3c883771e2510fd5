// The stand-in's index path must answer every query exactly as its scan path does: same
// documents, same order, with sort, skip, limit and projection, while documents are inserted,
// updated (indexed fields changed, removed, retyped) and deleted. Data and queries are random
// (seeded), shaped like @chat/store's collections and queries, plus arbitrary ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Doc } from '../../src/mongo/bson-values.js';
import { projectDocs } from '../../src/mongo/query.js';
import { Collection, type FindQuery } from '../../src/mongo/store.js';
import { seededRandom } from './seeded-random.js';

class Gen {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  some<T>(xs: readonly T[], max: number): T[] {
    return Array.from({ length: 1 + this.int(max) }, () => this.pick(xs));
  }
}

const BASE = 264905529753620487n;
const CHANNELS = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
const BUCKETS = [3061, 3062, 3063, 3064];

/** A snowflake-like id; a few small ones as plain numbers, so Int32/Int64 mix as on the wire. */
function messageId(g: Gen): bigint | number {
  return g.chance(0.05) ? g.int(50) : BASE + BigInt(g.int(4000));
}

function messageDoc(g: Gen, id: bigint | number): Doc {
  const doc: Doc = {
    _id: id,
    channel_id: g.pick(CHANNELS),
    bucket: g.chance(0.1) ? BigInt(g.pick(BUCKETS)) : g.pick(BUCKETS),
    author: { id: `u${g.int(5)}`, username: 'x' },
    content: 'hi',
    deleted: g.chance(0.2),
    updated_id: typeof id === 'bigint' ? id + BigInt(g.int(3) * 100) : id,
  };
  if (g.chance(0.03)) delete doc.channel_id;
  if (g.chance(0.03)) doc.bucket = null;
  return doc;
}

function messageCollection(): Collection {
  const c = new Collection('db', 'messages');
  c.createIndex({ key: { channel_id: 1, bucket: 1, _id: -1 }, name: 'channel_bucket_id' });
  c.createIndex({ key: { channel_id: 1, updated_id: 1 }, name: 'channel_updated' });
  return c;
}

function someId(g: Gen): bigint | number {
  return g.chance(0.5) ? BASE + BigInt(g.int(4000)) : g.chance(0.5) ? Number(BASE + BigInt(g.int(4000))) : g.int(60);
}

/** The queries @chat/store's Messages issues, with random arguments. */
function storeMessageQuery(g: Gen): FindQuery {
  const channel_id = g.pick(CHANNELS);
  const bucket = g.pick(BUCKETS);
  const limit = 1 + g.int(8);
  switch (g.int(9)) {
    case 0:
      return { filter: { channel_id, bucket, deleted: false }, sort: { _id: -1 }, limit };
    case 1:
      return { filter: { channel_id, bucket, deleted: false, _id: { $lt: someId(g) } }, sort: { _id: -1 }, limit };
    case 2:
      return { filter: { channel_id, bucket, deleted: false, _id: { $gt: someId(g) } }, sort: { _id: 1 }, limit };
    case 3:
      return {
        filter: { channel_id, bucket, deleted: false, _id: { $lt: someId(g), $gt: someId(g) } },
        sort: { _id: -1 },
        limit,
      };
    case 4:
      return { filter: { channel_id }, sort: { bucket: -1 }, limit: 1, projection: { bucket: 1, _id: 0 } };
    case 5: {
      const down = g.chance(0.5);
      return {
        filter: { channel_id, bucket: down ? { $lt: bucket } : { $gt: bucket } },
        sort: { bucket: down ? -1 : 1 },
        limit: 1,
        projection: { bucket: 1, _id: 0 },
      };
    }
    case 6:
      return {
        filter: { channel_id: { $in: g.some(CHANNELS, 3) }, bucket: { $gte: bucket }, _id: { $gt: someId(g) } },
        sort: { _id: 1 },
        limit: limit * 3,
      };
    case 7: {
      const since = someId(g);
      return {
        filter: { channel_id: { $in: g.some(CHANNELS, 3) }, updated_id: { $gt: since }, _id: { $lte: since } },
        sort: { updated_id: 1 },
        limit: limit * 3,
      };
    }
    default:
      return {
        filter: {
          _id: someId(g),
          channel_id,
          'author.id': `u${g.int(5)}`,
          deleted: false,
          updated_id: { $lt: someId(g) },
        },
        limit: 1,
      };
  }
}

const FIELDS = ['channel_id', 'bucket', '_id', 'updated_id', 'deleted'];

function fieldValue(g: Gen, field: string): unknown {
  switch (field) {
    case 'channel_id':
      return g.chance(0.1) ? null : g.pick(CHANNELS);
    case 'bucket':
      return g.chance(0.1) ? BigInt(g.pick(BUCKETS)) : g.pick(BUCKETS);
    case 'deleted':
      return g.chance(0.5);
    default:
      return someId(g);
  }
}

/** Arbitrary conjunctions of equality, $in and ranges, any sort, skip, limit. */
function randomQuery(g: Gen): FindQuery {
  const filter: Doc = {};
  for (const field of FIELDS) {
    if (!g.chance(0.45)) continue;
    switch (g.int(5)) {
      case 0:
        filter[field] = fieldValue(g, field);
        break;
      case 1:
        filter[field] = { $in: [fieldValue(g, field), fieldValue(g, field)] };
        break;
      case 2:
        filter[field] = { $eq: fieldValue(g, field) };
        break;
      default: {
        const range: Doc = {};
        for (const op of ['$gt', '$gte', '$lt', '$lte']) if (g.chance(0.4)) range[op] = fieldValue(g, field);
        filter[field] = Object.keys(range).length > 0 ? range : { $gte: fieldValue(g, field) };
      }
    }
  }
  const q: FindQuery = { filter: g.chance(0.2) ? { $and: [filter] } : filter };
  if (g.chance(0.7)) {
    const sort: Record<string, 1 | -1> = {};
    for (const f of g.some(FIELDS, 2)) sort[f] = g.chance(0.5) ? 1 : -1;
    q.sort = sort;
  }
  if (g.chance(0.3)) q.skip = g.int(4);
  if (g.chance(0.6)) q.limit = 1 + g.int(10);
  return q;
}

function assertSame(coll: Collection, q: FindQuery, label: string): void {
  const indexed = coll.find(q);
  const scanned = coll.find({ ...q, scan: true });
  if (q.projection) {
    assert.deepStrictEqual(projectDocs(indexed, q.projection), projectDocs(scanned, q.projection), label);
  } else {
    assert.equal(indexed.length, scanned.length, label);
    for (let i = 0; i < indexed.length; i++) assert.ok(indexed[i] === scanned[i], `${label}: document ${i} differs`);
  }
}

function show(q: FindQuery): string {
  return JSON.stringify(q, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** Random inserts, updates of indexed fields and deletes. */
function mutate(g: Gen, coll: Collection, ops: number): void {
  for (let i = 0; i < ops; i++) {
    const docs = coll.all();
    const r = g.next();
    if (r < 0.6 || docs.length === 0) {
      try {
        coll.insert(messageDoc(g, messageId(g)));
      } catch {
        // a duplicate _id: refused, as it must be
      }
    } else if (r < 0.85) {
      const current = g.pick(docs);
      const next = { ...messageDoc(g, current._id as bigint | number) };
      if (g.chance(0.5)) next.updated_id = BASE + 9000n + BigInt(g.int(100));
      coll.replace(current, next);
    } else {
      coll.remove(g.pick(docs));
    }
  }
}

test('store-shaped and random message queries: the index path returns exactly what a scan returns', () => {
  const g = new Gen(20261201);
  const coll = messageCollection();
  let planned = 0;
  for (let round = 0; round < 40; round++) {
    mutate(g, coll, 60);
    for (let i = 0; i < 60; i++) {
      const q = i % 2 === 0 ? storeMessageQuery(g) : randomQuery(g);
      if (coll.plan(q)) planned++;
      assertSame(coll, q, show(q));
    }
  }
  assert.ok(coll.size > 500, `only ${coll.size} documents`);
  assert.ok(planned > 1500, `only ${planned} of 2400 queries used an index`);
});

test("the store's queries pick the index meant for them, in the order that lets them stop early", () => {
  const g = new Gen(7);
  const coll = messageCollection();
  mutate(g, coll, 500);
  const plan = (q: FindQuery) => coll.plan(q);
  const history = plan({
    filter: { channel_id: 'c1', bucket: 3062, deleted: false, _id: { $lt: BASE + 100n } },
    sort: { _id: -1 },
    limit: 50,
  });
  assert.equal(history?.indexName, 'channel_bucket_id');
  assert.equal(history?.sortProvided, true);
  assert.equal(history?.forward, true);
  const forward = plan({
    filter: { channel_id: 'c1', bucket: 3062, deleted: false, _id: { $gt: 0n } },
    sort: { _id: 1 },
    limit: 50,
  });
  assert.equal(forward?.forward, false);
  const newest = plan({
    filter: { channel_id: 'c1' },
    sort: { bucket: -1 },
    limit: 1,
    projection: { bucket: 1, _id: 0 },
  });
  assert.equal(newest?.indexName, 'channel_bucket_id');
  assert.equal(newest?.tiesIdentical, false, 'buckets of two types (Int32 and Int64) are not interchangeable');
  const created = plan({
    filter: { channel_id: { $in: ['c1', 'c2'] }, bucket: { $gte: 3062 }, _id: { $gt: BASE } },
    sort: { _id: 1 },
    limit: 11,
  });
  assert.equal(created?.indexName, 'channel_bucket_id');
  assert.equal(created?.bounds.length, 3, 'skip scan over buckets bounds _id too');
  const changed = plan({
    filter: { channel_id: { $in: ['c1'] }, updated_id: { $gt: BASE }, _id: { $lte: BASE } },
    sort: { updated_id: 1 },
    limit: 11,
  });
  assert.equal(changed?.indexName, 'channel_updated');
  assert.equal(changed?.sortProvided, true);
  const edit = plan({
    filter: { _id: BASE, channel_id: 'c1', 'author.id': 'u1', deleted: false, updated_id: { $lt: BASE } },
  });
  assert.equal(edit?.indexName, '_id_', 'a unique index fixed on every field wins');
  assert.equal(plan({ filter: { deleted: false } }), undefined, 'nothing bounds an index: scan');
});

test('members, channels and users: compound unique, sparse unique and plain indexes agree with scans', () => {
  const g = new Gen(99);
  const members = new Collection('db', 'members');
  members.createIndex({ key: { channel_id: 1, user_id: 1 }, name: 'channel_user_unique', unique: true });
  members.createIndex({ key: { user_id: 1, channel_id: 1 }, name: 'user_channels' });
  const channels = new Collection('db', 'channels');
  channels.createIndex({ key: { dm_key: 1 }, name: 'dm_pair_unique', unique: true, sparse: true });
  channels.createIndex({ key: { kind: 1, name: 1 }, name: 'kind_name' });
  const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];
  for (let i = 0; i < 400; i++) {
    const channel_id = g.pick(CHANNELS);
    const user_id = g.pick(users);
    if (g.chance(0.7)) {
      try {
        members.insert({ _id: `m${i}`, channel_id, user_id, joined_at: new Date(i) });
      } catch (err) {
        assert.equal((err as { code?: number }).code, 11000);
      }
    } else {
      const found = members.find({ filter: { channel_id, user_id }, limit: 1 })[0];
      if (found) members.remove(found);
    }
    if (i % 4 === 0) {
      const dm = g.chance(0.5);
      const doc: Doc = {
        _id: `ch${i}`,
        kind: dm ? 'dm' : 'group',
        name: dm ? null : `g${g.int(5)}`,
        created_at: new Date(g.int(20)),
      };
      if (dm) doc.dm_key = `${g.pick(users)}:${g.pick(users)}`;
      try {
        channels.insert(doc);
      } catch (err) {
        assert.equal((err as { code?: number }).code, 11000);
      }
    }
    const queries: Array<[Collection, FindQuery]> = [
      [members, { filter: { channel_id }, projection: { user_id: 1, _id: 0 } }],
      [members, { filter: { user_id }, projection: { channel_id: 1, _id: 0 } }],
      [members, { filter: { channel_id, user_id }, projection: { _id: 1 }, limit: 1 }],
      [channels, { filter: { dm_key: `${g.pick(users)}:${g.pick(users)}` } }],
      [channels, { filter: { dm_key: null } }],
      [channels, { filter: { kind: 'group', name: `g${g.int(5)}` } }],
      [
        channels,
        { filter: { _id: { $in: [`ch${g.int(i + 1)}`, `ch${g.int(i + 1)}`] } }, sort: { created_at: 1, _id: 1 } },
      ],
    ];
    for (const [coll, q] of queries) assertSame(coll, q, show(q));
  }
  assert.equal(members.plan({ filter: { channel_id: 'c1' } })?.indexName, 'channel_user_unique');
  assert.equal(members.plan({ filter: { user_id: 'u1' } })?.indexName, 'user_channels');
  assert.equal(channels.plan({ filter: { dm_key: 'a:b' } })?.indexName, 'dm_pair_unique');
  assert.equal(
    channels.plan({ filter: { dm_key: null } }),
    undefined,
    'a sparse index lacks the documents null matches',
  );
  assert.throws(
    () => members.insert({ _id: 'dup', ...members.all()[0], joined_at: new Date() }),
    (err: { code?: number }) => err.code === 11000,
  );
});

test('a projection that makes tied documents identical lets a sorted walk stop without finishing the tie', () => {
  const coll = messageCollection();
  const g = new Gen(3);
  for (let i = 0; i < 300; i++) coll.insert({ ...messageDoc(g, BASE + BigInt(i)), bucket: g.pick(BUCKETS) });
  for (const channel_id of CHANNELS) {
    const newest: FindQuery = {
      filter: { channel_id },
      sort: { bucket: -1 },
      limit: 1,
      projection: { bucket: 1, _id: 0 },
    };
    assert.equal(coll.plan(newest)?.tiesIdentical, true);
    assertSame(coll, newest, channel_id);
    const withId: FindQuery = { ...newest, projection: { bucket: 1 } };
    assert.equal(coll.plan(withId)?.tiesIdentical, false, '_id differs between tied documents');
    assertSame(coll, withId, `${channel_id} with _id`);
  }
});

test('an array in an indexed field turns the index off until it is gone, and results stay exact', () => {
  const coll = messageCollection();
  const g = new Gen(5);
  mutate(g, coll, 200);
  const q: FindQuery = { filter: { channel_id: 'c2', bucket: 3062 }, sort: { _id: -1 }, limit: 5 };
  assert.equal(coll.plan(q)?.indexName, 'channel_bucket_id');
  const arrayDoc = { _id: 'arr', channel_id: ['c2', 'c3'], bucket: 3062, updated_id: 1n };
  coll.insert(arrayDoc);
  assert.notEqual(coll.plan(q)?.indexName, 'channel_bucket_id');
  assertSame(coll, q, 'multikey');
  assert.ok(coll.find(q).includes(arrayDoc), 'an array element matches equality, as on the server');
  coll.remove(arrayDoc);
  assert.equal(coll.plan(q)?.indexName, 'channel_bucket_id');
  assertSame(coll, q, 'after the array is gone');
});

test('a descending index built over existing documents, ranges over mixed types and missing fields', () => {
  const g = new Gen(11);
  const coll = new Collection('db', 'mixed');
  const values = [null, 1, 2n, 2.5, 'x', 'y', true, new Date(5), 3n ** 40n];
  for (let i = 0; i < 300; i++) {
    const doc: Doc = { _id: i, b: g.pick(values) };
    if (!g.chance(0.1)) doc.a = g.pick(values);
    coll.insert(doc);
  }
  // Created over existing documents: the index is built from them.
  coll.createIndex({ key: { a: -1, b: 1 }, name: 'a_desc_b' });
  assert.equal(coll.plan({ filter: { a: 1 } })?.indexName, 'a_desc_b');
  for (let i = 0; i < 400; i++) {
    const filter: Doc = {};
    const op = g.pick(['$gt', '$gte', '$lt', '$lte', '$eq', '$in']);
    filter.a = op === '$in' ? { $in: [g.pick(values), g.pick(values)] } : { [op]: g.pick(values) };
    if (g.chance(0.5)) filter.b = { [g.pick(['$gt', '$lte'])]: g.pick(values) };
    const sort = g.chance(0.5) ? { a: g.pick([1, -1] as const), b: g.pick([1, -1] as const) } : undefined;
    const q: FindQuery = { filter, sort, limit: g.int(6), skip: g.int(3) };
    assertSame(coll, q, show(q));
  }
});
