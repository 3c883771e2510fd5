// The store's final contents, read with the MongoDB driver from the run's database (the documents of
// docs/design.md §5: `_id` the snowflake as Int64, `channel_id`, `author.id`, `nonce`, `content`, `deleted`).
import { type Long, MongoClient } from 'mongodb';
import type { StoredMessage } from './history.js';

interface MessageDoc {
  _id: Long;
  channel_id: string;
  author: { id: string };
  nonce?: string | null;
  content: string;
  deleted?: boolean;
}

export async function readStored(mongoUrl: string, dbName: string): Promise<StoredMessage[]> {
  const client = await new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 30_000 }).connect();
  try {
    const docs = await client.db(dbName).collection<MessageDoc>('messages').find({}).toArray();
    return docs.map((d) => ({
      id: d._id.toString(),
      channel: d.channel_id,
      author: d.author.id,
      nonce: d.nonce ?? null,
      content: d.content,
      deleted: d.deleted === true,
    }));
  } finally {
    await client.close();
  }
}
