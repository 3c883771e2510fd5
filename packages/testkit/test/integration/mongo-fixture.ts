// One startMongo() (a real MongoDB when MONGO_URL is set, otherwise the stand-in) and one driver
// client for a describe block, and a database of its own per test (dropped when the block ends), so
// tests never see each other's data.
import { after, before } from 'node:test';
import { type MongoHandle, startMongo } from '@chat/testkit';
import { type Db, MongoClient } from 'mongodb';

let dbCounter = 0;

export interface MongoFixture {
  readonly mongo: MongoHandle;
  readonly client: MongoClient;
  /** A fresh database named after `label`, dropped after the block. */
  freshDb(label: string): Db;
}

/** Registers the block's before/after hooks; the fields are set once `before` has run. */
export function mongoFixture(): MongoFixture {
  const used: string[] = [];
  const fixture = {
    mongo: undefined as unknown as MongoHandle,
    client: undefined as unknown as MongoClient,
    freshDb(label: string): Db {
      dbCounter++;
      const name = `tk_${label}_${process.pid}_${dbCounter}`;
      used.push(name);
      return fixture.client.db(name);
    },
  };
  before(async () => {
    fixture.mongo = await startMongo();
    fixture.client = new MongoClient(fixture.mongo.url, { serverSelectionTimeoutMS: 5_000 });
    await fixture.client.connect();
  });
  after(async () => {
    try {
      for (const name of used) await fixture.client.db(name).dropDatabase();
    } finally {
      await fixture.client?.close();
      await fixture.mongo?.close();
    }
  });
  return fixture;
}
