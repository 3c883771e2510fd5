// `$text` through the real `mongodb` driver: the same queries against the stand-in and, when MONGO_URL
// is set, against a real MongoDB, comparing the result ids (and their order). The stand-in's answers
// are also checked against ids worked out by hand, so the suite means something without a server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startMongoStandIn } from '@chat/testkit';
import { type Collection, type Document, MongoClient, MongoServerError } from 'mongodb';

interface Msg {
  _id: number;
  channel_id: string;
  content: string;
  deleted: boolean;
}

const CORPUS: Array<[number, string, string]> = [
  [1, 'a', 'Hello world'],
  [2, 'a', 'HELLO there, hello again'],
  [3, 'b', 'The café opens at nine'],
  [4, 'b', 'cafe au lait'],
  [5, 'a', 'concatenate the dog'],
  [6, 'c', 'cat and dog'],
  [7, 'a', 'Привет мир, hello'],
  [8, 'b', 'nothing to see'],
  [9, 'c', 'hello'],
  [10, 'a', 'world peace'],
  [11, 'b', 'snake_case rocks😀, a+b'],
];

interface Case {
  name: string;
  filter: Document;
  sort?: Document;
  limit?: number;
  /** The ids the stand-in must answer, worked out by hand from MongoDB's rules. */
  expected: number[];
}

const text = (search: string) => ({ $text: { $search: search } });

const CASES: Case[] = [
  { name: 'one term, any case', filter: text('hello'), sort: { _id: 1 }, expected: [1, 2, 7, 9] },
  { name: 'terms are ORed', filter: text('world cafe'), sort: { _id: 1 }, expected: [1, 3, 4, 10] },
  { name: 'diacritics fold both ways', filter: text('CAFÉ'), sort: { _id: 1 }, expected: [3, 4] },
  { name: 'non-Latin words', filter: text('привет'), expected: [7] },
  { name: 'no stemming', filter: text('open'), expected: [] },
  { name: 'an underscore or emoji is part of a word', filter: text('snake rocks'), expected: [] },
  { name: 'words with underscore and emoji', filter: text('SNAKE_CASE'), expected: [11] },
  { name: 'symbols separate words', filter: text('"b" "rocks😀"'), expected: [11] },
  { name: 'a phrase', filter: text('"hello world"'), expected: [1] },
  { name: 'phrases are ANDed', filter: text('"hello" "world"'), sort: { _id: 1 }, expected: [1] },
  // The store's query shape: every word quoted; a phrase is checked as text, so "cat" inside
  // "concatenate" passes once "dog" matched a whole word.
  { name: 'quoted words, matched as text', filter: text('"cat" "dog"'), sort: { _id: -1 }, expected: [6, 5] },
  { name: 'negated term', filter: text('hello -world'), sort: { _id: 1 }, expected: [2, 7, 9] },
  { name: 'negated phrase', filter: text('hello -"hello again"'), sort: { _id: 1 }, expected: [1, 7, 9] },
  { name: 'negation alone matches nothing', filter: text('-hello'), expected: [] },
  {
    name: 'with the store filter, newest first, paged',
    filter: { ...text('"hello"'), channel_id: { $in: ['a', 'c'] }, deleted: false, _id: { $lt: 9 } },
    sort: { _id: -1 },
    limit: 2,
    expected: [7, 2],
  },
  {
    name: 'by textScore',
    filter: text('hello'),
    sort: { score: { $meta: 'textScore' }, _id: 1 },
    // 2: hello twice in 4 words, 1.5 × 0.75 = 1.125; 9: the whole field, 1.1; 1: once in 2, 0.75; 7: once in 3, ≈0.667.
    expected: [2, 9, 1, 7],
  },
];

async function seeded(url: string, label: string): Promise<{ client: MongoClient; coll: Collection<Msg> }> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
  await client.connect();
  const coll = client.db(`tk_text_${label}_${process.pid}`).collection<Msg>('messages');
  await coll.createIndex({ content: 'text' }, { name: 'content_text', default_language: 'none' });
  await coll.insertMany(CORPUS.map(([_id, channel_id, content]) => ({ _id, channel_id, content, deleted: false })));
  return { client, coll };
}

async function run(coll: Collection<Msg>, c: Case): Promise<number[]> {
  let cursor = coll.find(c.filter, c.sort?.score ? { projection: { score: { $meta: 'textScore' } } } : {});
  if (c.sort) cursor = cursor.sort(c.sort);
  if (c.limit) cursor = cursor.limit(c.limit);
  return (await cursor.toArray()).map((d) => d._id);
}

describe('$text on the stand-in, and compared with a real MongoDB', () => {
  let standIn: Awaited<ReturnType<typeof startMongoStandIn>>;
  let local: Awaited<ReturnType<typeof seeded>>;
  let real: Awaited<ReturnType<typeof seeded>> | undefined;
  const realUrl = process.env.MONGO_URL || undefined;

  before(async () => {
    standIn = await startMongoStandIn({ logger: { warn() {} } });
    local = await seeded(standIn.url, 'standin');
    if (realUrl) real = await seeded(realUrl, 'real');
  });

  after(async () => {
    await local?.client.close();
    await standIn?.close();
    if (real) {
      await real.coll.db.dropDatabase();
      await real.client.close();
    }
  });

  for (const c of CASES) {
    test(`stand-in: ${c.name}`, async () => {
      assert.deepEqual(await run(local.coll, c), c.expected);
    });
  }

  const skip = realUrl ? false : 'MONGO_URL is not set: no real MongoDB to compare the stand-in with';
  for (const c of CASES) {
    test(`real MongoDB answers as the stand-in: ${c.name}`, { skip }, async () => {
      assert.deepEqual(await run(real!.coll, c), await run(local.coll, c));
    });
  }

  test('$text without a text index fails with IndexNotFound on both', async () => {
    for (const { coll } of real ? [local, real] : [local]) {
      const plain = coll.db.collection('plain');
      await plain.insertOne({ content: 'hello' });
      const err = await plain
        .find(text('hello'))
        .toArray()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof MongoServerError);
      assert.equal(err.code, 27);
    }
  });

  test('an edit is searchable by its new words, a tombstone by none', async () => {
    for (const { coll } of real ? [local, real] : [local]) {
      await coll.updateOne({ _id: 10 }, { $set: { content: 'quiet evening' } });
      await coll.updateOne({ _id: 9 }, { $set: { content: '', deleted: true } });
      assert.deepEqual(await run(coll, { name: '', filter: text('peace evening'), expected: [] }), [10]);
      assert.deepEqual(await run(coll, { name: '', filter: text('hello'), sort: { _id: 1 }, expected: [] }), [1, 2, 7]);
      await coll.updateOne({ _id: 10 }, { $set: { content: 'world peace' } });
      await coll.updateOne({ _id: 9 }, { $set: { content: 'hello', deleted: false } });
    }
  });
});
