// Leases a snowflake worker id (0..1023) in Redis so that live producers never share one: SET NX
// with a TTL, renewed while the process lives, released on exit. Losing the lease to another
// process is fatal for id uniqueness, so it is reported and the owner should exit.
import type { Redis } from 'ioredis';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return -1 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface WorkerLease {
  readonly workerId: number;
  release(): Promise<void>;
}

export interface LeaseOptions {
  redis: Redis;
  owner: string;
  prefix?: string;
  ttlMs?: number;
  onLost: (reason: string) => void;
  /** Renewal failed because Redis is unreachable (the lease survives until its TTL). */
  onRenewError?: (err: unknown) => void;
}

export async function leaseWorkerId(o: LeaseOptions): Promise<WorkerLease> {
  const prefix = o.prefix ?? 'chat:';
  const ttl = o.ttlMs ?? 30_000;
  const start = Math.floor(Math.random() * 1024);
  for (let i = 0; i < 1024; i++) {
    const id = (start + i) % 1024;
    const key = `${prefix}worker:${id}`;
    if ((await o.redis.set(key, o.owner, 'PX', ttl, 'NX')) !== 'OK') continue;
    let released = false;
    const timer = setInterval(
      async () => {
        try {
          const r = await o.redis.eval(RENEW, 1, key, o.owner, String(ttl));
          if (r === -1 && !released) o.onLost(`worker id ${id} is now held by another process`);
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
      async release() {
        released = true;
        clearInterval(timer);
        await o.redis.eval(RELEASE, 1, key, o.owner).catch(() => {});
      },
    };
  }
  throw new Error('no free worker id: 1024 producers hold leases');
}
