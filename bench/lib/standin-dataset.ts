// The data set of the standin-queries scenario, grown in steps through @chat/store: users (inserted
// directly, with a placeholder password hash: scrypt per user would take minutes), channels and
// members through `store.channels.create`, messages through `store.messages.append`. Each user
// brings 2 DMs (with its neighbours), a share of a 10-member group and `messagesPerUser` messages
// spread over the last `spanDays` days, so per-channel sizes stay the same as the data grows, while
// one "hot" group (the first 50 users) takes `hotShare` of every step's messages and grows with it.
import { makeSnowflake } from '@chat/router';
import type { NewMessage, Store } from '@chat/store';
import type { Db } from 'mongodb';
import { seededRandom } from './stats.js';
import { pool } from './users.js';

export interface BenchChannel {
  id: string;
  members: string[];
  /** A few message ids of the channel, for `before=` pages. */
  sampleIds: string[];
}

export interface DatasetOptions {
  now: number;
  spanDays: number;
  messagesPerUser: number;
  hotShare: number;
  seed: number;
}

const HOT_MEMBERS = 50;
const SAMPLES_PER_CHANNEL = 4;
const DAY_MS = 86_400_000;

export class GrowingDataset {
  readonly users: string[] = [];
  readonly channels: BenchChannel[] = [];
  readonly userChannels = new Map<string, string[]>();
  hot: BenchChannel | undefined;
  messages = 0;
  /** Seconds the last step spent on users, channels (with members) and messages. */
  lastStep = { usersS: 0, channelsS: 0, messagesS: 0 };
  readonly #store: Store;
  readonly #db: Db;
  readonly #opts: DatasetOptions;
  readonly #random: () => number;
  #nextMessage = 0;
  #nextChannel = 0;

  constructor(store: Store, db: Db, opts: DatasetOptions) {
    this.#store = store;
    this.#db = db;
    this.#opts = opts;
    this.#random = seededRandom(opts.seed);
  }

  /** Adds users (a multiple of 10) until there are `total`, with their channels and messages. */
  async growTo(total: number): Promise<void> {
    const from = this.users.length;
    if (total <= from || (total - from) % 10 !== 0) throw new Error(`cannot grow from ${from} to ${total} users`);
    const t0 = performance.now();
    const fresh = await this.#addUsers(from, total);
    const t1 = performance.now();
    const created: BenchChannel[] = [];
    const specs: Array<{ kind: 'dm' | 'group'; members: string[] }> = fresh.map((u, i) => ({
      kind: 'dm',
      members: [u, fresh[(i + 1) % fresh.length]!],
    }));
    for (let i = 0; i < fresh.length; i += 10) specs.push({ kind: 'group', members: fresh.slice(i, i + 10) });
    if (!this.hot) specs.push({ kind: 'group', members: fresh.slice(0, HOT_MEMBERS) });
    const made = await pool(specs, 16, (s) => this.#createChannel(s.kind, s.members));
    created.push(...made);
    if (!this.hot) this.hot = created.pop();
    this.channels.push(...created);
    const t2 = performance.now();
    const count = (total - from) * this.#opts.messagesPerUser;
    const hotCount = Math.round(count * this.#opts.hotShare);
    await this.#addMessages(created, count - hotCount);
    await this.#addMessages([this.hot!], hotCount);
    this.lastStep = {
      usersS: (t1 - t0) / 1000,
      channelsS: (t2 - t1) / 1000,
      messagesS: (performance.now() - t2) / 1000,
    };
  }

  async #addUsers(from: number, to: number): Promise<string[]> {
    const docs = [];
    for (let n = from; n < to; n++) {
      const id = String(makeSnowflake(this.#opts.now - DAY_MS * 400 + n, 1000, 0));
      docs.push({
        _id: id,
        username: `u${n}`,
        username_key: `u${n}`,
        password_hash: 'scrypt$16384$8$1$bench$placeholder',
        created_at: new Date(),
      });
      this.users.push(id);
    }
    await this.#db.collection<{ _id: string }>('users').insertMany(docs);
    return docs.map((d) => d._id);
  }

  async #createChannel(kind: 'dm' | 'group', members: string[]): Promise<BenchChannel> {
    const id = String(makeSnowflake(this.#opts.now - DAY_MS * 300 + this.#nextChannel++, 1001, 0));
    await this.#store.channels.create({
      id,
      kind,
      name: kind === 'group' ? `g${id}` : null,
      creatorId: members[0]!,
      recipients: members.slice(1),
    });
    for (const u of members) {
      const list = this.userChannels.get(u) ?? [];
      list.push(id);
      this.userChannels.set(u, list);
    }
    return { id, members, sampleIds: [] };
  }

  async #addMessages(channels: BenchChannel[], count: number): Promise<void> {
    const span = this.#opts.spanDays * DAY_MS;
    let batch: NewMessage[] = [];
    for (let i = 0; i < count; i++) {
      const ch = channels[Math.floor(this.#random() * channels.length)]!;
      const author = ch.members[Math.floor(this.#random() * ch.members.length)]!;
      const n = this.#nextMessage++;
      const ts = this.#opts.now - Math.floor(this.#random() * span);
      const id = String(makeSnowflake(ts, (n >> 12) & 1023, n & 4095));
      if (ch.sampleIds.length < SAMPLES_PER_CHANNEL * (ch === this.hot ? 10 : 1)) ch.sampleIds.push(id);
      batch.push({ id, channel_id: ch.id, author: { id: author, username: 'u' }, content: `message ${n}` });
      if (batch.length === 1000) {
        await this.#store.messages.append(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.#store.messages.append(batch);
    this.messages += count;
  }
}
