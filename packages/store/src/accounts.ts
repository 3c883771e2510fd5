// The users collection: unique usernames (case-insensitive), scrypt password hashes.
import type { Collection, MongoServerError } from 'mongodb';
import { ConflictError, ValidationError } from './errors.js';
import type { PasswordHasher } from './passwords.js';
import type { User, UserDoc } from './types.js';

const USERNAME_RE = /^[A-Za-z0-9_.-]{2,32}$/;
/** A hash of an unguessable password at cost N: verifying against it costs what a real check costs. */
function dummyHash(n: number): string {
  return `scrypt$${n}$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;
}

export function toUser(doc: UserDoc): User {
  return { id: doc._id, username: doc.username, created_at: doc.created_at.toISOString() };
}

export class Accounts {
  readonly #col: Collection<UserDoc>;
  readonly #hasher: PasswordHasher;

  constructor(col: Collection<UserDoc>, hasher: PasswordHasher) {
    this.#col = col;
    this.#hasher = hasher;
  }

  async createIndexes(): Promise<void> {
    await this.#col.createIndex({ username_key: 1 }, { unique: true, name: 'username_unique' });
  }

  /** Registers a user. Username: 2–32 of `A-Z a-z 0-9 _ . -`; password: 8–256 characters. */
  async create(id: string, username: unknown, password: unknown): Promise<User> {
    if (typeof username !== 'string' || !USERNAME_RE.test(username)) {
      throw new ValidationError('username must be 2-32 characters of letters, digits, "_", "." or "-"');
    }
    if (typeof password !== 'string' || [...password].length < 8 || password.length > 256) {
      throw new ValidationError('password must be 8-256 characters');
    }
    const doc: UserDoc = {
      _id: id,
      username,
      username_key: username.toLowerCase(),
      password_hash: await this.#hasher.hash(password),
      created_at: new Date(),
    };
    try {
      await this.#col.insertOne(doc);
    } catch (err) {
      if ((err as MongoServerError).code === 11000) throw new ConflictError(`username ${username} is taken`);
      throw err;
    }
    return toUser(doc);
  }

  /**
   * The user when the password matches, else null (same time either way, whether or not the user
   * exists). A hash made with weaker parameters than the current ones is replaced after a good login.
   * Rejects with PasswordHasherBusyError when too many checks are running (retryable).
   */
  async authenticate(username: unknown, password: unknown): Promise<User | null> {
    if (typeof username !== 'string' || typeof password !== 'string' || password.length > 256) return null;
    const doc = await this.#col.findOne({ username_key: username.toLowerCase() });
    const ok = await this.#hasher.verify(password, doc?.password_hash ?? dummyHash(this.#hasher.n));
    if (!doc || !ok) return null;
    if (this.#hasher.outdated(doc.password_hash)) {
      const upgraded = await this.#hasher.hash(password).catch(() => undefined);
      if (upgraded) {
        await this.#col.updateOne(
          { _id: doc._id, password_hash: doc.password_hash },
          { $set: { password_hash: upgraded } },
        );
      }
    }
    return toUser(doc);
  }

  /** The user's current token version (tokens carrying another are revoked); null for an unknown user. */
  async tokenVersion(id: string): Promise<number | null> {
    const doc = await this.#col.findOne({ _id: id }, { projection: { token_version: 1 } });
    return doc ? (doc.token_version ?? 0) : null;
  }

  /** tokenVersion() of several users in one query: a user absent from the map is unknown. */
  async tokenVersions(ids: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (ids.length === 0) return out;
    const docs = await this.#col.find({ _id: { $in: [...ids] } }, { projection: { token_version: 1 } }).toArray();
    for (const doc of docs) out.set(doc._id, doc.token_version ?? 0);
    return out;
  }

  /** Revokes every token issued to the user so far; resolves with the new version (null: unknown user). */
  async revokeTokens(id: string): Promise<number | null> {
    const doc = await this.#col.findOneAndUpdate(
      { _id: id },
      { $inc: { token_version: 1 } },
      { returnDocument: 'after', projection: { token_version: 1 } },
    );
    return doc ? (doc.token_version ?? 0) : null;
  }

  async get(id: string): Promise<User | null> {
    const doc = await this.#col.findOne({ _id: id });
    return doc ? toUser(doc) : null;
  }

  async getMany(ids: readonly string[]): Promise<User[]> {
    const docs = await this.#col.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(toUser);
  }
}
