// The real `mongodb` driver against startMongo(): a real MongoDB when MONGO_URL is set, otherwise
// the in-memory stand-in. The first suite states only driver-visible behaviour, so it must pass
// against both; the second covers what is particular to the stand-in (warning, close, refusals).
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { describe, test } from 'node:test';
import { startMongo, startMongoStandIn } from '@chat/testkit';
import { type CommandStartedEvent, Long, MongoBulkWriteError, MongoClient, MongoServerError } from 'mongodb';
import { mongoFixture } from './mongo-fixture.js';

const CLIENT_OPTIONS = { serverSelectionTimeoutMS: 5_000 } as const;

function sortBigInts(xs: bigint[]): bigint[] {
  return [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected the operation to fail');
}

describe('the mongodb driver against startMongo()', () => {
  const fx = mongoFixture();
  const { freshDb } = fx;

  test('Int64 snowflake ids round-trip exactly and sort and compare numerically', async () => {
    const coll = freshDb('int64').collection<{ _id: bigint | number | Long; seq: number }>('messages');
    // As strings these sort differently: "1000…" < "2649…" < "5" < "9007…".
    const ids = [264905529753620487n, 1000000000000000000n, 9007199254740993n, 5n];
    await coll.insertMany(ids.map((id, seq) => ({ _id: id, seq })));

    const exact = await coll.findOne({ _id: 264905529753620487n }, { useBigInt64: true });
    assert.equal(exact?._id, 264905529753620487n);
    assert.equal(exact?.seq, 0);

    const asc = await coll.find({}, { useBigInt64: true }).sort({ _id: 1 }).toArray();
    assert.deepEqual(
      asc.map((d) => d._id),
      sortBigInts(ids),
    );
    const desc = await coll.find({}, { useBigInt64: true }).sort({ _id: -1 }).toArray();
    assert.deepEqual(
      desc.map((d) => d._id),
      sortBigInts(ids).reverse(),
    );

    const above = await coll
      .find({ _id: { $gt: 9007199254740993n } }, { useBigInt64: true })
      .sort({ _id: 1 })
      .toArray();
    assert.deepEqual(
      above.map((d) => d._id),
      [264905529753620487n, 1000000000000000000n],
    );
    // Int64 and Int32/Double compare as numbers, in both directions.
    assert.equal(await coll.countDocuments({ _id: { $lt: 6 } }), 1);
    assert.equal(await coll.countDocuments({ _id: 5 }), 1);

    // Default decoding: a Long where a JS number would lose precision.
    const asLong = await coll.findOne({ _id: Long.fromString('264905529753620487') });
    assert.ok(asLong?._id instanceof Long);
    assert.equal(String(asLong?._id), '264905529753620487');
  });

  test('sort puts mixed types in BSON order: null, numbers, strings, booleans, dates', async () => {
    const coll = freshDb('mixed').collection<{ _id: number; v?: unknown }>('values');
    const date = new Date('2024-01-01T00:00:00Z');
    await coll.insertMany([
      { _id: 1, v: date },
      { _id: 2, v: true },
      { _id: 3, v: 'a' },
      { _id: 4, v: Long.fromNumber(3) },
      { _id: 5, v: 2.5 },
      { _id: 6, v: 1 },
      { _id: 7, v: null },
      { _id: 8 },
    ]);
    const order = await coll.find().sort({ v: 1, _id: 1 }).toArray();
    assert.deepEqual(
      order.map((d) => d._id),
      [7, 8, 6, 5, 4, 3, 2, 1],
    );
  });

  test('find applies filter, sort, skip, limit and projection', async () => {
    const coll = freshDb('find').collection<{ _id: number; channel: string; n: number; body: string }>('messages');
    await coll.insertMany(
      Array.from({ length: 10 }, (_, i) => ({
        _id: i,
        channel: i % 2 === 0 ? 'even' : 'odd',
        n: 100 - i,
        body: `m${i}`,
      })),
    );
    const page = await coll
      .find({ channel: 'even' }, { projection: { _id: 0, n: 1 } })
      .sort({ n: 1 })
      .skip(1)
      .limit(3)
      .toArray();
    assert.deepEqual(page, [{ n: 94 }, { n: 96 }, { n: 98 }]);

    const excluded = await coll.findOne({ _id: 3 }, { projection: { body: 0 } });
    assert.deepEqual(excluded, { _id: 3, channel: 'odd', n: 97 });
    assert.deepEqual(
      (
        await coll
          .find({ n: { $in: [91, 92, 1] } })
          .sort({ _id: 1 })
          .toArray()
      ).map((d) => d._id),
      [8, 9],
    );
  });

  test('a cursor with a small batchSize delivers everything across several getMores', async () => {
    const db = freshDb('cursor');
    const coll = db.collection<{ _id: number }>('items');
    await coll.insertMany(Array.from({ length: 11 }, (_, i) => ({ _id: i })));
    const monitored = new MongoClient(fx.mongo.url, { ...CLIENT_OPTIONS, monitorCommands: true });
    const getMores: CommandStartedEvent[] = [];
    monitored.on('commandStarted', (e) => {
      if (e.commandName === 'getMore') getMores.push(e);
    });
    try {
      const docs = await monitored
        .db(db.databaseName)
        .collection('items')
        .find()
        .sort({ _id: 1 })
        .batchSize(2)
        .toArray();
      assert.deepEqual(
        docs.map((d) => d._id),
        Array.from({ length: 11 }, (_, i) => i),
      );
      assert.ok(getMores.length > 3, `expected more than 3 getMores, saw ${getMores.length}`);

      // Closing a cursor early (killCursors) is accepted.
      const early = monitored.db(db.databaseName).collection('items').find().batchSize(2);
      assert.ok(await early.next());
      await early.close();
    } finally {
      await monitored.close();
    }
  });

  test('a unique index violation is error 11000, and an unordered insertMany inserts the rest', async () => {
    const coll = freshDb('unique').collection<{ channel_id: number; user_id: number }>('members');
    await coll.createIndex({ channel_id: 1, user_id: 1 }, { unique: true });
    await coll.insertOne({ channel_id: 1, user_id: 2 });

    const single = await rejection(coll.insertOne({ channel_id: 1, user_id: 2 }));
    assert.ok(single instanceof MongoServerError);
    assert.equal(single.code, 11000);
    assert.match(
      single.message,
      /E11000 duplicate key error collection: \S+\.members index: channel_id_1_user_id_1 dup key/,
    );
    assert.deepEqual(single.keyValue, { channel_id: 1, user_id: 2 });

    const bulk = await rejection(
      coll.insertMany(
        [
          { channel_id: 1, user_id: 3 },
          { channel_id: 1, user_id: 2 },
          { channel_id: 1, user_id: 4 },
          { channel_id: 1, user_id: 3 },
          { channel_id: 2, user_id: 2 },
        ],
        { ordered: false },
      ),
    );
    assert.ok(bulk instanceof MongoBulkWriteError);
    assert.equal(bulk.code, 11000);
    assert.equal(bulk.insertedCount, 3);
    const errors = [bulk.writeErrors].flat();
    assert.deepEqual(
      errors.map((e) => [e.index, e.code]),
      [
        [1, 11000],
        [3, 11000],
      ],
    );
    assert.equal(await coll.countDocuments(), 4);

    // An ordered insertMany stops at the first duplicate.
    const ordered = await rejection(
      coll.insertMany([
        { channel_id: 3, user_id: 1 },
        { channel_id: 1, user_id: 2 },
        { channel_id: 3, user_id: 2 },
      ]),
    );
    assert.ok(ordered instanceof MongoBulkWriteError);
    assert.equal(ordered.insertedCount, 1);
    assert.equal(await coll.countDocuments({ channel_id: 3 }), 1);

    // Duplicate `_id`s collide through the implicit unique _id index, whatever the numeric type.
    const ids = freshDb('uniqueid').collection<{ _id: bigint | number }>('m');
    await ids.insertOne({ _id: 7n });
    const dupId = await rejection(ids.insertOne({ _id: 7 }));
    assert.ok(dupId instanceof MongoServerError);
    assert.equal(dupId.code, 11000);
    assert.match(dupId.message, /index: _id_ dup key: \{ _id: 7 \}/);
  });

  test('creating a unique index over duplicate data fails with 11000', async () => {
    const coll = freshDb('uniquebuild').collection<{ email: string }>('users');
    await coll.insertMany([{ email: 'a@example.com' }, { email: 'a@example.com' }]);
    const err = await rejection(coll.createIndex({ email: 1 }, { unique: true }));
    assert.ok(err instanceof MongoServerError);
    assert.equal(err.code, 11000);
    const names = (await coll.listIndexes().toArray()).map((i) => i.name);
    assert.deepEqual(names, ['_id_']);
  });

  test('updateOne with upsert inserts once, applying $set, $inc and $setOnInsert', async () => {
    const coll = freshDb('upsert').collection<{
      _id: string;
      n?: number;
      name?: string;
      created?: Date;
      tags?: string[];
    }>('users');
    const created = new Date('2024-05-01T00:00:00Z');
    const first = await coll.updateOne(
      { _id: 'u1' },
      { $set: { name: 'Ada' }, $inc: { n: 1 }, $setOnInsert: { created } },
      { upsert: true },
    );
    assert.equal(first.upsertedCount, 1);
    assert.equal(first.upsertedId, 'u1');
    assert.equal(first.matchedCount, 0);

    const second = await coll.updateOne(
      { _id: 'u1' },
      { $set: { name: 'Ada L.' }, $inc: { n: 2 }, $setOnInsert: { created: new Date(0) }, $push: { tags: 'x' } },
      { upsert: true },
    );
    assert.equal(second.upsertedCount, 0);
    assert.equal(second.matchedCount, 1);
    assert.equal(second.modifiedCount, 1);
    assert.deepEqual(await coll.findOne({ _id: 'u1' }), { _id: 'u1', name: 'Ada L.', n: 3, created, tags: ['x'] });

    // Setting what is already there matches but modifies nothing.
    const same = await coll.updateOne({ _id: 'u1' }, { $set: { name: 'Ada L.' } });
    assert.equal(same.matchedCount, 1);
    assert.equal(same.modifiedCount, 0);

    // Upserts seed the new document from the filter's equalities.
    await coll.updateMany({ name: 'Grace', n: { $gt: 5 } }, { $set: { _id: 'u2' } }, { upsert: true });
    assert.deepEqual(await coll.findOne({ _id: 'u2' }), { _id: 'u2', name: 'Grace' });

    const unset = await coll.updateOne({ _id: 'u1' }, { $unset: { tags: '' } });
    assert.equal(unset.modifiedCount, 1);
    assert.equal((await coll.findOne({ _id: 'u1' }))?.tags, undefined);
  });

  test('a conditional update whose condition fails modifies nothing', async () => {
    const coll = freshDb('conditional').collection<{ _id: bigint; content: string; updated_id: bigint }>('messages');
    const id = 264905529753620487n;
    await coll.insertOne({ _id: id, content: 'v2', updated_id: 264905529753620999n });
    // A late redelivery of an older edit must not overwrite the newer one.
    const stale = await coll.updateOne(
      { _id: id, updated_id: { $lt: 264905529753620900n } },
      { $set: { content: 'v1', updated_id: 264905529753620900n } },
    );
    assert.equal(stale.matchedCount, 0);
    assert.equal(stale.modifiedCount, 0);
    const fresh = await coll.updateOne(
      { _id: id, updated_id: { $lt: 264905529753621000n } },
      { $set: { content: 'v3', updated_id: 264905529753621000n } },
    );
    assert.equal(fresh.modifiedCount, 1);
    const doc = await coll.findOne({ _id: id }, { useBigInt64: true });
    assert.equal(doc?.content, 'v3');
    assert.equal(doc?.updated_id, 264905529753621000n);
  });

  test('update operators $max, $min, $addToSet and $pull change only what they should', async () => {
    const coll = freshDb('operators').collection<{
      _id: number;
      hi: number | bigint;
      lo: number;
      set: string[];
      list: number[];
    }>('docs');
    await coll.insertOne({ _id: 1, hi: 5, lo: 5, set: ['a'], list: [1, 2, 3, 2] });
    await coll.updateOne({ _id: 1 }, { $max: { hi: 264905529753620487n }, $min: { lo: 7 }, $addToSet: { set: 'a' } });
    await coll.updateOne({ _id: 1 }, { $pull: { list: 2 }, $addToSet: { set: 'b' } });
    const doc = await coll.findOne({ _id: 1 }, { useBigInt64: true });
    assert.deepEqual(doc, { _id: 1, hi: 264905529753620487n, lo: 5, set: ['a', 'b'], list: [1, 3] });
  });

  test('deleteOne removes one match and deleteMany all of them', async () => {
    const coll = freshDb('delete').collection<{ _id: number; channel: number }>('messages');
    await coll.insertMany(Array.from({ length: 6 }, (_, i) => ({ _id: i, channel: i < 4 ? 1 : 2 })));
    assert.equal((await coll.deleteOne({ channel: 1 })).deletedCount, 1);
    assert.equal((await coll.deleteMany({ channel: 1 })).deletedCount, 3);
    assert.equal((await coll.deleteMany({ channel: 3 })).deletedCount, 0);
    assert.deepEqual(
      (await coll.find().sort({ _id: 1 }).toArray()).map((d) => d._id),
      [4, 5],
    );
  });

  test('countDocuments counts matches, honouring skip and limit', async () => {
    const coll = freshDb('count').collection<{ _id: number; channel: number }>('messages');
    assert.equal(await coll.countDocuments(), 0);
    await coll.insertMany(Array.from({ length: 9 }, (_, i) => ({ _id: i, channel: i % 3 })));
    assert.equal(await coll.countDocuments(), 9);
    assert.equal(await coll.countDocuments({ channel: 0 }), 3);
    assert.equal(await coll.countDocuments({ channel: { $ne: 0 } }, { skip: 2, limit: 3 }), 3);
    assert.equal(await coll.estimatedDocumentCount(), 9);
    assert.deepEqual(await coll.distinct('channel'), [0, 1, 2]);
    const groups = await coll
      .aggregate<{ _id: number; n: number }>([
        { $match: { _id: { $gte: 3 } } },
        { $group: { _id: '$channel', n: { $sum: 1 } } },
        { $sort: { _id: -1 } },
      ])
      .toArray();
    assert.deepEqual(groups, [
      { _id: 2, n: 2 },
      { _id: 1, n: 2 },
      { _id: 0, n: 2 },
    ]);
  });

  test('findOneAndUpdate returns the document before or after, and upserts', async () => {
    const coll = freshDb('fam').collection<{ _id: string; seq: number }>('counters');
    await coll.insertOne({ _id: 'c', seq: 1 });
    const before = await coll.findOneAndUpdate({ _id: 'c' }, { $inc: { seq: 1 } });
    assert.deepEqual(before, { _id: 'c', seq: 1 });
    const after = await coll.findOneAndUpdate({ _id: 'c' }, { $inc: { seq: 1 } }, { returnDocument: 'after' });
    assert.deepEqual(after, { _id: 'c', seq: 3 });
    const none = await coll.findOneAndUpdate({ _id: 'missing' }, { $inc: { seq: 1 } });
    assert.equal(none, null);
    const upserted = await coll.findOneAndUpdate(
      { _id: 'new' },
      { $inc: { seq: 10 } },
      { upsert: true, returnDocument: 'after' },
    );
    assert.deepEqual(upserted, { _id: 'new', seq: 10 });
    const deleted = await coll.findOneAndDelete({}, { sort: { seq: -1 } });
    assert.deepEqual(deleted, { _id: 'new', seq: 10 });
  });

  test('createIndex is idempotent and listIndexes reports the indexes', async () => {
    const db = freshDb('indexes');
    const coll = db.collection('messages');
    const first = await coll.createIndex({ channel_id: 1, bucket: 1, _id: -1 });
    const again = await coll.createIndex({ channel_id: 1, bucket: 1, _id: -1 });
    assert.equal(first, 'channel_id_1_bucket_1__id_-1');
    assert.equal(again, first);
    await coll.createIndex({ channel_id: 1, updated_id: 1 }, { unique: true });
    await coll.createIndex({ channel_id: 1, updated_id: 1 }, { unique: true });

    const indexes = await coll.listIndexes().toArray();
    assert.deepEqual(
      indexes.map((i) => [i.name, i.key, i.unique ?? false]),
      [
        ['_id_', { _id: 1 }, false],
        ['channel_id_1_bucket_1__id_-1', { channel_id: 1, bucket: 1, _id: -1 }, false],
        ['channel_id_1_updated_id_1', { channel_id: 1, updated_id: 1 }, true],
      ],
    );
    assert.ok(await coll.indexExists('channel_id_1_updated_id_1'));
    await coll.dropIndex('channel_id_1_updated_id_1');
    assert.equal(await coll.indexExists('channel_id_1_updated_id_1'), false);

    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    assert.deepEqual(names, ['messages']);
    assert.equal(await coll.drop(), true);
    assert.deepEqual(await db.listCollections().toArray(), []);
  });

  test('a command the server does not know is rejected naming the command', async () => {
    const db = freshDb('unknown');
    const err = await rejection(db.command({ chatNoSuchCommand: 1 }));
    assert.ok(err instanceof MongoServerError);
    assert.equal(err.code, 59);
    assert.match(err.message, /chatNoSuchCommand/);
  });

  test('two clients write concurrently and each sees the other’s writes', async () => {
    const db = freshDb('concurrent');
    const other = new MongoClient(fx.mongo.url, CLIENT_OPTIONS);
    try {
      await other.connect();
      const a = fx.client.db(db.databaseName).collection<{ _id: string; by: string }>('messages');
      const b = other.db(db.databaseName).collection<{ _id: string; by: string }>('messages');
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          i % 2 === 0 ? a.insertOne({ _id: `a${i}`, by: 'a' }) : b.insertOne({ _id: `b${i}`, by: 'b' }),
        ),
      );
      assert.equal(await a.countDocuments({ by: 'b' }), 20);
      assert.equal(await b.countDocuments({ by: 'a' }), 20);
      const [fromA, fromB] = await Promise.all([
        a.find().sort({ _id: 1 }).toArray(),
        b.find().sort({ _id: 1 }).toArray(),
      ]);
      assert.deepEqual(fromA, fromB);
    } finally {
      await other.close();
    }
  });
});

describe('the stand-in itself', () => {
  test('warns once on start, through the injected logger, that it is an in-memory stand-in', async () => {
    const warnings: string[] = [];
    const standIn = await startMongoStandIn({ logger: { warn: (m) => warnings.push(m) } });
    const client = new MongoClient(standIn.url, CLIENT_OPTIONS);
    try {
      await client.db('admin').command({ ping: 1 });
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? '', /in-memory/);
      assert.match(warnings[0] ?? '', /keeps nothing/);
      const info = await client.db('admin').command({ buildInfo: 1 });
      assert.equal(info.standIn, true);
    } finally {
      await client.close();
      await standIn.close();
    }
  });

  test('close() drops open connections and refuses new ones, so nothing keeps the process alive', async () => {
    const standIn = await startMongoStandIn({ logger: { warn: () => {} } });
    const raw = net.connect(standIn.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => raw.once('connect', resolve).once('error', reject));
    const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    const client = new MongoClient(standIn.url, { ...CLIENT_OPTIONS, serverSelectionTimeoutMS: 500 });
    try {
      await client.db('x').command({ ping: 1 });
      await standIn.close();
      await closed;
      const refused = await new Promise<NodeJS.ErrnoException>((resolve) => {
        const s = net.connect(standIn.port, '127.0.0.1');
        s.once('error', resolve);
        s.once('connect', () => {
          s.destroy();
          resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' }));
        });
      });
      assert.equal(refused.code, 'ECONNREFUSED');
      await assert.rejects(client.db('x').command({ ping: 1 }));
      await standIn.close(); // idempotent
    } finally {
      raw.destroy();
      await client.close();
    }
  });

  test('it names itself when refusing a command it does not implement, and refuses transactions', async () => {
    const standIn = await startMongoStandIn({ logger: { warn: () => {} } });
    const client = new MongoClient(standIn.url, CLIENT_OPTIONS);
    try {
      const db = client.db('x');
      const unknown = await rejection(db.command({ serverStatus: 1 }));
      assert.ok(unknown instanceof MongoServerError);
      assert.equal(unknown.code, 59);
      assert.equal(unknown.codeName, 'CommandNotFound');
      assert.equal(unknown.message, "stand-in does not implement command 'serverStatus'");
      const txn = await rejection(db.command({ commitTransaction: 1 }));
      assert.ok(txn instanceof MongoServerError);
      assert.equal(txn.code, 20);
      assert.match(txn.message, /without transactions/);
      const missing = await rejection(db.command({ drop: 'never-created' }));
      assert.ok(missing instanceof MongoServerError);
      assert.equal(missing.code, 26);
    } finally {
      await client.close();
      await standIn.close();
    }
  });

  test('startMongo returns MONGO_URL unchanged when one is given, without starting anything', async () => {
    const handle = await startMongo({ url: 'mongodb://db.example:27017/?replicaSet=rs0' });
    assert.equal(handle.url, 'mongodb://db.example:27017/?replicaSet=rs0');
    assert.equal(handle.standIn, false);
    await handle.close();
  });
});
