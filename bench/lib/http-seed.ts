// History for the HTTP benchmark, written directly through @chat/store (not the API, which would
// stamp every message with the current time): one group channel whose id dates from `ageDays` ago
// (history walks down to the channel's creation bucket), with the given members, and `messages`
// messages spread evenly over the `spanDays` before now, so that `before=` pages walk back through
// several 10-day buckets. Ids are snowflakes of those times: the order the API pages in.
import { bucketOf, makeSnowflake } from '@chat/router';
import { createStore, type NewMessage } from '@chat/store';
import { MongoClient } from 'mongodb';

const DAY_MS = 86_400_000;

export interface SeededHistory {
  channelId: string;
  messages: number;
  /** Distinct 10-day buckets the messages fall in. */
  buckets: number;
  ms: number;
}

export async function seedHistory(o: {
  mongoUrl: string;
  mongoDb: string;
  members: readonly string[];
  messages: number;
  spanDays: number;
}): Promise<SeededHistory> {
  const t0 = Date.now();
  const client = new MongoClient(o.mongoUrl);
  try {
    await client.connect();
    const store = createStore({ db: client.db(o.mongoDb) });
    await store.init();
    const now = Date.now();
    const oldest = now - o.spanDays * DAY_MS;
    const channelId = String(makeSnowflake(oldest - DAY_MS, 1023, 0));
    await store.channels.create({
      id: channelId,
      kind: 'group',
      name: 'http-bench history',
      creatorId: o.members[0]!,
      recipients: o.members.slice(1),
    });
    const buckets = new Set<number>();
    let batch: NewMessage[] = [];
    for (let n = 0; n < o.messages; n++) {
      const ts = oldest + Math.floor(((now - oldest) * n) / o.messages);
      const id = makeSnowflake(ts, 1022, n & 4095);
      buckets.add(bucketOf(String(id)));
      const author = o.members[n % o.members.length]!;
      batch.push({
        id: String(id),
        channel_id: channelId,
        author: { id: author, username: 'seed' },
        content: `seeded message ${n}`,
      });
      if (batch.length === 1000) {
        await store.messages.append(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await store.messages.append(batch);
    return { channelId, messages: o.messages, buckets: buckets.size, ms: Date.now() - t0 };
  } finally {
    await client.close();
  }
}
