// The commands @chat/store's messages.append sends on every batch, through the real driver against
// startMongo() (a real MongoDB when MONGO_URL is set, otherwise the stand-in, whose fast paths take
// these shapes: src/mongo/id-lookup.ts, simple-projection.ts, update.ts changedByUpdate): `_id`
// `$in` reads with a one-path projection, bulk `$max` upserts of nested `{n, id}` positions, and
// ordered inserts into a collection with a unique compound index. Driver-visible behaviour only,
// so every assertion holds on both.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Long, MongoBulkWriteError } from 'mongodb';
import { mongoFixture } from './mongo-fixture.js';

describe("the store's write-path commands against startMongo()", () => {
  const { freshDb } = mongoFixture();

  test('_id $in finds Longs, numbers and strings by value, once each, in insertion order; missing ids add nothing', async () => {
    const coll = freshDb('idin').collection<{ _id: unknown; seq: number }>('c');
    const big = 264905529753620487n;
    await coll.insertMany([
      { _id: 'b', seq: 0 },
      { _id: Long.fromBigInt(big), seq: 1 },
      { _id: 5, seq: 2 },
      { _id: 'a', seq: 3 },
      { _id: 2.5, seq: 4 },
    ]);
    const seqs = async (filter: object) =>
      (await coll.find(filter as never, { projection: { seq: 1, _id: 0 } }).toArray()).map((d) => d.seq);
    // Long 5 and double 5.0 equal Int32 5; the bigint is matched exactly (one above it is not).
    assert.deepEqual(await seqs({ _id: { $in: ['a', Long.fromNumber(5), 'missing', big + 1n, big, 'a'] } }), [1, 2, 3]);
    assert.deepEqual(await seqs({ _id: { $in: [5.0, 2.5, 'B'] } }), [2, 4]);
    assert.deepEqual(await seqs({ _id: { $in: [] } }), []);
    assert.deepEqual(await seqs({ _id: 'b' }), [0]);
    assert.deepEqual(await seqs({ _id: { $eq: Long.fromBigInt(big) } }), [1]);
    // null is not a lookup value (it also matches a missing field): the general path answers.
    assert.deepEqual(await seqs({ _id: { $in: [null, 'b'] } }), [0]);
    const sorted = await coll
      .find({ _id: { $in: ['a', 'b', 5] } } as never, { sort: { seq: -1 }, skip: 1, limit: 1 })
      .toArray();
    assert.deepEqual(
      sorted.map((d) => d.seq),
      [2],
    );
  });

  test('a one-path projection keeps the nested field, an emptied parent, or nothing, as the server does', async () => {
    const coll = freshDb('proj').collection<{ _id: number; top?: unknown }>('c');
    await coll.insertMany([
      { _id: 1, top: { n: 7, id: 'x' } },
      { _id: 2, top: { id: 'x' } },
      { _id: 3, top: 5 },
      { _id: 4 },
      { _id: 5, top: { n: { deep: [1, 2] }, id: 'y' } },
      { _id: 6, top: null },
    ]);
    const all = await coll.find({}, { projection: { 'top.n': 1 }, sort: { _id: 1 } }).toArray();
    assert.deepEqual(all, [
      { _id: 1, top: { n: 7 } },
      { _id: 2, top: {} },
      { _id: 3 },
      { _id: 4 },
      { _id: 5, top: { n: { deep: [1, 2] } } },
      { _id: 6 },
    ]);
    assert.deepEqual(Object.keys(all[0]!), ['_id', 'top']);
    const noId = await coll.find({ _id: { $in: [1, 2] } }, { projection: { _id: 0, 'top.id': 1 } }).toArray();
    assert.deepEqual(noId, [{ top: { id: 'x' } }, { top: { id: 'x' } }]);
  });

  test('bulk $max upserts raise nested {n, id} positions only upwards, create missing ones, count nModified', async () => {
    const coll = freshDb('max').collection<{ _id: string; top?: unknown; authors?: Record<string, unknown> }>('c');
    await coll.insertMany([
      { _id: 'c1', top: { n: 5, id: 'm5' }, authors: { u1: { n: 5, id: 'm5' } } },
      { _id: 'c2', top: { n: 9, id: 'm9' } },
      { _id: 'c3', top: true },
      { _id: 'c5', top: 'text' },
    ]);
    const raise = (id: string, n: number, author: string) => ({
      updateOne: {
        filter: { _id: id },
        update: { $max: { top: { n, id: `m${n}` }, [`authors.${author}`]: { n, id: `m${n}` } } },
        upsert: true,
      },
    });
    const res = await coll.bulkWrite(
      [
        raise('c1', 6, 'u1'), // higher: both raised
        raise('c2', 3, 'u2'), // lower top: kept; missing author: created
        raise('c1', 4, 'u1'), // lower on both: nothing changes (matched, not modified)
        raise('c3', 1, 'u1'), // a boolean sorts above every subdocument: top kept, author created
        raise('c4', 2, 'u3'), // a new _id: upserted
        raise('c5', 1, 'u1'), // a subdocument sorts above every string: top raised
      ],
      { ordered: false },
    );
    assert.equal(res.matchedCount, 5);
    assert.equal(res.modifiedCount, 4);
    assert.equal(res.upsertedCount, 1);
    assert.deepEqual(res.upsertedIds, { 4: 'c4' });
    const docs = await coll.find({}, { sort: { _id: 1 } }).toArray();
    assert.deepEqual(docs, [
      { _id: 'c1', top: { n: 6, id: 'm6' }, authors: { u1: { n: 6, id: 'm6' } } },
      { _id: 'c2', top: { n: 9, id: 'm9' }, authors: { u2: { n: 3, id: 'm3' } } },
      { _id: 'c3', top: true, authors: { u1: { n: 1, id: 'm1' } } },
      { _id: 'c4', top: { n: 2, id: 'm2' }, authors: { u3: { n: 2, id: 'm2' } } },
      { _id: 'c5', top: { n: 1, id: 'm1' }, authors: { u1: { n: 1, id: 'm1' } } },
    ]);
    // Same n, higher id: {n, id} documents compare field by field, so the id decides.
    const tie = await coll.updateOne({ _id: 'c1' }, { $max: { top: { n: 6, id: 'm7' } } });
    assert.equal(tie.modifiedCount, 1);
    const same = await coll.updateOne({ _id: 'c1' }, { $max: { top: { n: 6, id: 'm7' } } });
    assert.equal(same.matchedCount, 1);
    assert.equal(same.modifiedCount, 0);
    assert.deepEqual((await coll.findOne({ _id: 'c1' }))?.top, { n: 6, id: 'm7' });
  });

  test('an ordered insert refused by a unique index mid-batch reports that index and position; earlier ones stay, later ones are not tried', async () => {
    const coll = freshDb('ordered').collection<{ _id: Long | number; channel_id: string; n: number }>('messages');
    await coll.createIndex({ channel_id: 1, n: 1 }, { unique: true, name: 'channel_ordinal' });
    await coll.createIndex({ channel_id: 1, _id: -1 }, { name: 'channel_id' });
    await coll.insertOne({ _id: Long.fromNumber(100), channel_id: 'a', n: 1 });
    const batch = [
      { _id: Long.fromNumber(101), channel_id: 'b', n: 1 },
      { _id: Long.fromNumber(102), channel_id: 'a', n: 2 },
      { _id: Long.fromNumber(103), channel_id: 'a', n: 1 }, // ordinal taken
      { _id: Long.fromNumber(104), channel_id: 'a', n: 3 },
    ];
    const err = await coll.insertMany(batch, { ordered: true }).then(
      () => assert.fail('expected a duplicate key'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof MongoBulkWriteError);
    assert.equal(err.insertedCount, 2);
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.index, 2);
    assert.equal(errors[0]!.code, 11000);
    assert.match(errors[0]!.errmsg ?? '', /index: channel_ordinal dup key/);
    const ids = (await coll.find({}, { sort: { _id: 1 } }).toArray()).map((d) => Number(d._id));
    assert.deepEqual(ids, [100, 101, 102]);
    // An _id refusal reports the _id index at its own position.
    const again = await coll.insertMany([{ _id: Long.fromNumber(104), channel_id: 'a', n: 3 }, batch[1]!]).then(
      () => assert.fail('expected a duplicate key'),
      (e: unknown) => e,
    );
    assert.ok(again instanceof MongoBulkWriteError);
    const second = Array.isArray(again.writeErrors) ? again.writeErrors[0]! : again.writeErrors;
    assert.equal(second.index, 1);
    assert.match(second.errmsg ?? '', /index: _id_ dup key/);
    assert.equal(await coll.countDocuments({ channel_id: 'a' }), 3);
  });
});
