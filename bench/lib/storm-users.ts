// Users for W2 and W4, made as registration leaves them without paying scrypt per user (thousands of
// hashes take minutes on this machine, and registration is not what these workloads measure): a
// snowflake id, a JWT of the run's secret signed by the gateway's own token service, and an account
// row in the `users` collection with an unusable password hash — so the HTTP API knows them
// (group creation checks recipients) and IDENTIFY/RESUME accept them. Optionally one group of all of
// them, written directly (channel row and member rows: adding thousands of members through the HTTP
// API re-reads the member list on every add). The group's id is a fresh snowflake, so the membership
// cache in Redis (keyed by channel id, whatever the run's prefix) cannot hold another run's members.
import { createTokenService } from '@chat/gateway';
import { SnowflakeGenerator } from '@chat/router';
import { MongoClient } from 'mongodb';
import type { BenchUser } from './users.js';

/** A hash no password matches (wrong length): these users cannot log in, only use their token. */
const NO_PASSWORD = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AA==';

/** `u0..u<count-1>` with ids and signed tokens. */
export async function makeUsers(secret: string, count: number): Promise<BenchUser[]> {
  const tokens = createTokenService(secret, 86_400);
  const ids = new SnowflakeGenerator({ workerId: 1021 });
  const users: BenchUser[] = [];
  for (let n = 0; n < count; n++) users.push({ n, id: await ids.next(), username: `u${n}`, token: '' });
  // Signing runs on libuv's thread pool (WebCrypto HMAC): a few hundred at a time.
  for (let i = 0; i < count; i += 500) {
    await Promise.all(
      users.slice(i, i + 500).map(async (u) => {
        u.token = await tokens.sign({ userId: u.id, username: u.username });
      }),
    );
  }
  return users;
}

/** Inserts the users' account rows and, with `group`, that group (owned by the first user) with every user as a member. */
export async function seedUsers(
  mongoUrl: string,
  db: string,
  users: readonly BenchUser[],
  group?: { id: string; name: string },
): Promise<void> {
  const client = new MongoClient(mongoUrl);
  try {
    await client.connect();
    const now = new Date();
    if (group) {
      await client
        .db(db)
        .collection('channels')
        .insertOne({
          _id: group.id as unknown as never,
          kind: 'group',
          name: group.name,
          owner_id: users[0]?.id ?? null,
          created_at: now,
        });
    }
    for (let i = 0; i < users.length; i += 1000) {
      const batch = users.slice(i, i + 1000);
      await client
        .db(db)
        .collection('users')
        .insertMany(
          batch.map((u) => ({
            _id: u.id as unknown as never,
            username: u.username,
            username_key: u.username.toLowerCase(),
            password_hash: NO_PASSWORD,
            created_at: now,
          })),
        );
      if (group) {
        await client
          .db(db)
          .collection('members')
          .insertMany(batch.map((u) => ({ channel_id: group.id, user_id: u.id, joined_at: now })));
      }
    }
  } finally {
    await client.close();
  }
}
