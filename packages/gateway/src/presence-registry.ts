// Who is online, counted across every gateway in Redis, in a shape that survives a gateway killed
// without warning: each gateway keeps one set of the users that have at least one socket on it, and
// the sorted set of gateways holds each one's last heartbeat (Redis's own clock). A user is online
// while some gateway whose heartbeat is younger than `timeoutMs` lists it. A gateway that stops
// beating drops out of every answer at once; the first live gateway that notices claims its set
// (exactly one does) and announces its users offline. Every key expires unless a live gateway
// refreshes it, and every key is bounded: a gateway's set by its own connections, the gateway set
// by the gateways alive in the last `timeoutMs` (stale ones are claimed and removed).
//
// Keys (`<prefix>:` …, one hash tag so a Redis Cluster keeps them together; see docs/operations.md):
//   {presence}:gateways      sorted set  serverId → last heartbeat (ms, Redis TIME)
//   {presence}:gw:<serverId> set         user ids with ≥ 1 socket on that gateway
import type { Redis } from 'ioredis';

const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
/** Whether ARGV[2] is in the set of a live gateway other than ARGV[1] (live: beat after now - ARGV[3]). */
const ELSEWHERE = `
local function elsewhere(user, self, timeout, setPrefix, now)
  local live = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('%d', now - timeout), '+inf')
  for _, gw in ipairs(live) do
    if gw ~= self and redis.call('SISMEMBER', setPrefix .. gw, user) == 1 then return true end
  end
  return false
end`;

// KEYS: gateways, own set. ARGV: serverId, timeoutMs, keyTtlMs, local users, reap limit.
// Returns {lost, stale ids}: lost = this gateway's entries were claimed or evicted while it has users.
const BEAT = `${NOW}
local added = redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local exists = redis.call('EXISTS', KEYS[2])
if exists == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
local lost = 0
if tonumber(ARGV[4]) > 0 and (added == 1 or exists == 0) then lost = 1 end
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('(%d', now - tonumber(ARGV[2])), 'LIMIT', 0, tonumber(ARGV[5]))
return {lost, stale}`;

// KEYS: gateways, own set. ARGV: serverId, user, timeoutMs, keyTtlMs, set prefix. 1 = the user came online.
const JOIN = `${NOW}${ELSEWHERE}
local other = elsewhere(ARGV[2], ARGV[1], tonumber(ARGV[3]), ARGV[5], now)
local added = redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if added == 1 and not other then return 1 end
return 0`;

// KEYS: gateways, own set. ARGV: serverId, user, timeoutMs, set prefix. 1 = the user went offline.
const LEAVE = `${NOW}${ELSEWHERE}
local removed = redis.call('SREM', KEYS[2], ARGV[2])
if removed == 1 and not elsewhere(ARGV[2], ARGV[1], tonumber(ARGV[3]), ARGV[4], now) then return 1 end
return 0`;

// KEYS: gateways. ARGV: timeoutMs, set prefix, users… Returns 1/0 per user (online on any live gateway).
const STATUS = `${NOW}
local live = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('%d', now - tonumber(ARGV[1])), '+inf')
local out = {}
for i = 3, #ARGV do
  local on = 0
  for _, gw in ipairs(live) do
    if redis.call('SISMEMBER', ARGV[2] .. gw, ARGV[i]) == 1 then on = 1 break end
  end
  out[#out + 1] = on
end
return out`;

// KEYS: gateways, the dead gateway's set. ARGV: dead serverId, timeoutMs. Its users, to exactly one caller
// (false to the others, and when the gateway beat again meanwhile).
const CLAIM = `${NOW}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) >= now - tonumber(ARGV[2]) then return false end
redis.call('ZREM', KEYS[1], ARGV[1])
local users = redis.call('SMEMBERS', KEYS[2])
redis.call('DEL', KEYS[2])
return users`;

export interface PresenceRegistryOptions {
  redis: Redis;
  /** Key prefix with its separator, e.g. `chat:`. */
  prefix: string;
  serverId: string;
  /** A gateway whose last heartbeat is older than this is dead: its users count as offline. */
  timeoutMs: number;
}

/** What one heartbeat found. */
export interface Beat {
  /** This gateway's entries were claimed (it was thought dead) or evicted: its users must join again. */
  lost: boolean;
  /** Gateways that stopped beating (at most `reapLimit`), to be claimed. */
  stale: string[];
}

/** Chunk of users per STATUS script call: bounds how long one call holds Redis. */
const STATUS_CHUNK = 500;

export class PresenceRegistry {
  readonly #o: PresenceRegistryOptions;
  readonly #gateways: string;
  readonly #setPrefix: string;
  readonly #own: string;
  /** Keys live this long unless refreshed: long enough for a live gateway to claim a dead one's set. */
  readonly #keyTtlMs: number;

  constructor(options: PresenceRegistryOptions) {
    this.#o = options;
    this.#gateways = `${options.prefix}{presence}:gateways`;
    this.#setPrefix = `${options.prefix}{presence}:gw:`;
    this.#own = this.#setPrefix + options.serverId;
    this.#keyTtlMs = 3 * options.timeoutMs;
  }

  /** The set key of a gateway (tests, docs). */
  setKey(serverId: string): string {
    return this.#setPrefix + serverId;
  }

  get gatewaysKey(): string {
    return this.#gateways;
  }

  /** Records this gateway alive now and refreshes its keys; `localUsers`: users with sockets here now. */
  async beat(localUsers: number, reapLimit = 16): Promise<Beat> {
    const [lost, stale] = (await this.#o.redis.eval(
      BEAT,
      2,
      this.#gateways,
      this.#own,
      this.#o.serverId,
      String(this.#o.timeoutMs),
      String(this.#keyTtlMs),
      String(localUsers),
      String(reapLimit),
    )) as [number, string[]];
    return { lost: lost === 1, stale: stale.filter((s) => s !== this.#o.serverId) };
  }

  /**
   * The user's first socket on this gateway: adds it to this gateway's set. Resolves true when the user
   * was on no other live gateway, i.e. it came online (everyone sharing a channel is to hear it).
   * Calls for one user must be issued in order (join, leave, join …): they run in issue order on one
   * connection.
   */
  async join(userId: string): Promise<boolean> {
    const r = await this.#o.redis.eval(
      JOIN,
      2,
      this.#gateways,
      this.#own,
      this.#o.serverId,
      userId,
      String(this.#o.timeoutMs),
      String(this.#keyTtlMs),
      this.#setPrefix,
    );
    return r === 1;
  }

  /** The user's last socket on this gateway closed. Resolves true when it is now on no live gateway: offline. */
  async leave(userId: string): Promise<boolean> {
    const r = await this.#o.redis.eval(
      LEAVE,
      2,
      this.#gateways,
      this.#own,
      this.#o.serverId,
      userId,
      String(this.#o.timeoutMs),
      this.#setPrefix,
    );
    return r === 1;
  }

  /** Which of `userIds` are online (on any live gateway, this one included), in order. */
  async online(userIds: readonly string[]): Promise<boolean[]> {
    const out: boolean[] = [];
    for (let i = 0; i < userIds.length; i += STATUS_CHUNK) {
      const chunk = userIds.slice(i, i + STATUS_CHUNK);
      const r = (await this.#o.redis.eval(
        STATUS,
        1,
        this.#gateways,
        String(this.#o.timeoutMs),
        this.#setPrefix,
        ...chunk,
      )) as number[];
      for (const v of r) out.push(v === 1);
    }
    return out;
  }

  /** Takes over a gateway that stopped beating: its users, to this caller only (null to any other). */
  async claim(serverId: string): Promise<string[] | null> {
    const r = await this.#o.redis.eval(
      CLAIM,
      2,
      this.#gateways,
      this.#setPrefix + serverId,
      serverId,
      String(this.#o.timeoutMs),
    );
    return Array.isArray(r) ? (r as string[]) : null;
  }

  /**
   * At start: takes what an earlier process with this server id left (a restart after a crash, within
   * the timeout: same host name and pid in a container). Resolves with the users it listed, now dropped.
   */
  async takeOver(): Promise<string[]> {
    const [[, users]] = (await this.#o.redis.multi().smembers(this.#own).del(this.#own).exec()) as [
      [Error | null, string[]],
    ];
    return users ?? [];
  }

  /** This gateway stops (drained): it leaves the gateway set and drops its user set. */
  async stop(): Promise<void> {
    await this.#o.redis.multi().zrem(this.#gateways, this.#o.serverId).del(this.#own).exec();
  }
}
