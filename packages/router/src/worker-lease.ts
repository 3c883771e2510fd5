// A snowflake worker id (0..1023) leased in Redis, so that live producers never share one: SET NX
// with a TTL, renewed while the process lives (and taken back if its key vanished, e.g. Redis
// restarted empty, and nobody else took it), released on close. Any ioredis-compatible client
// works (the lease needs only SET … PX … NX and EVAL); the router itself does not depend on Redis.
import { InvalidArgumentError } from './internal/errors.js';

/** 1: renewed; 2: the key was gone and is this owner's again; -1: another owner holds it. */
const RENEW = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return -1`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** Worker ids a snowflake holds (10 bits). */
export const WORKER_IDS = 1024;

/** The two Redis commands the lease uses, as ioredis (and node-redis' legacy mode) spell them. */
export interface LeaseRedis {
  set(key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>;
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

export interface WorkerLease {
  /** The leased id, for `new SnowflakeGenerator({ workerId })`. */
  readonly workerId: number;
  /** The Redis key holding it (`<prefix>worker:<id>`). */
  readonly key: string;
  /** Stops renewing and deletes the key if this owner still holds it. Idempotent. */
  release(): Promise<void>;
}

export interface LeaseOptions {
  redis: LeaseRedis;
  /** Who holds the lease, stored as the key's value (e.g. the server id); unique per process. */
  owner: string;
  /** Key prefix; keys are `<prefix>worker:<id>`. Default `chat:` (the services use `<CHAT_PREFIX>:`). */
  prefix?: string;
  /** Lease lifetime, renewed every third of it. Default 30,000 ms; at least 3 ms. */
  ttlMs?: number;
  /**
   * A renewal found the key naming another owner: ids this process mints may collide from now on. Stop
   * minting — the services exit. (A key found gone — Redis restarted empty, the key evicted, or expired
   * while this process stalled — is taken back at once in the same atomic step, and `onReclaimed` says so.)
   */
  onLost: (reason: string) => void;
  /** A renewal found the key gone and took it back (Redis restarted empty, or the key was evicted or expired). */
  onReclaimed?: (reason: string) => void;
  /** A renewal failed because Redis is unreachable (the lease survives until its TTL). */
  onRenewError?: (err: unknown) => void;
  /**
   * The worker ids this caller may take, inclusive. Default all: `{ first: 0, last: 1023 }`. Producers that
   * lease from different Redis servers (one per site, docs/two-sites.md) must use disjoint ranges.
   */
  ids?: { first: number; last: number };
}

/**
 * Leases a free worker id of `ids`, starting from a random one. Guarantees: while the lease is renewed no
 * other caller of this function (same Redis, same prefix) gets the same id; a process that dies frees its id
 * after `ttlMs`. Throws `InvalidArgumentError` on bad options and `Error` when every id of the range is held.
 */
export async function leaseWorkerId(o: LeaseOptions): Promise<WorkerLease> {
  if (typeof o.owner !== 'string' || o.owner === '') throw new InvalidArgumentError('owner must be a non-empty string');
  const prefix = o.prefix ?? 'chat:';
  const ttl = o.ttlMs ?? 30_000;
  if (!Number.isInteger(ttl) || ttl < 3) throw new InvalidArgumentError('ttlMs must be an integer ≥ 3');
  const { first, last } = o.ids ?? { first: 0, last: WORKER_IDS - 1 };
  if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last >= WORKER_IDS || first > last)
    throw new InvalidArgumentError(`ids must be integers with 0 ≤ first ≤ last ≤ ${WORKER_IDS - 1}`);
  const size = last - first + 1;
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const id = first + ((start + i) % size);
    const key = `${prefix}worker:${id}`;
    if ((await o.redis.set(key, o.owner, 'PX', ttl, 'NX')) !== 'OK') continue;
    let released = false;
    const timer = setInterval(
      async () => {
        try {
          const r = await o.redis.eval(RENEW, 1, key, o.owner, String(ttl));
          if (released) return;
          if (r === -1) o.onLost(`worker id ${id} lease lost: another process holds its key`);
          else if (r === 2)
            o.onReclaimed?.(`worker id ${id}: its key was gone (Redis restarted or evicted it); taken back`);
        } catch (err) {
          // Redis unreachable: the lease runs out after ttl unless Redis is back before then.
          if (!released) o.onRenewError?.(err);
        }
      },
      Math.floor(ttl / 3),
    );
    timer.unref();
    return {
      workerId: id,
      key,
      async release() {
        if (released) return;
        released = true;
        clearInterval(timer);
        await o.redis.eval(RELEASE, 1, key, o.owner).catch(() => {});
      },
    };
  }
  throw new Error(`no free worker id: ${size} producers hold leases on ids ${first}..${last} under ${prefix}worker:*`);
}
