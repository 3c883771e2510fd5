// Each gateway's own figures for the operator's view, shared through Redis: every gateway writes its
// connection and user counts into one hash (`<prefix>:{admin}:gateways`, field = its server id) every
// presence heartbeat; readers keep the reports younger than the presence timeout and delete older ones.
// Bounded: one field per gateway reporting within the timeout (stale fields are removed by the next read,
// and the whole hash expires when no gateway reports). Ages are compared on the readers' clock, so the
// gateways' clocks must agree to well within the timeout (they already must for presence).
import type { Redis } from 'ioredis';

/** One gateway's last report. */
export interface GatewayReport {
  serverId: string;
  connections: number;
  users: number;
  /** When it was written (ms since the epoch, the writer's clock). */
  at: number;
}

export interface GatewayReportsOptions {
  redis: Redis;
  /** Key prefix with its separator, e.g. `chat:`. */
  prefix: string;
  serverId: string;
  /** Reports older than this are stale: not listed, and deleted. */
  timeoutMs: number;
}

export class GatewayReports {
  readonly #o: GatewayReportsOptions;
  readonly #key: string;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: GatewayReportsOptions) {
    this.#o = options;
    this.#key = `${options.prefix}{admin}:gateways`;
  }

  /** Writes this gateway's figures now (the hash's expiry is pushed to twice the timeout). */
  async report(connections: number, users: number): Promise<void> {
    const value: GatewayReport = { serverId: this.#o.serverId, connections, users, at: Date.now() };
    await this.#o.redis
      .multi()
      .hset(this.#key, this.#o.serverId, JSON.stringify(value))
      .pexpire(this.#key, 2 * this.#o.timeoutMs)
      .exec();
  }

  /** Reports every `intervalMs` until stop(); a failed write is retried at the next tick (`onError` told). */
  start(intervalMs: number, figures: () => { connections: number; users: number }, onError: (e: unknown) => void) {
    const tick = () => {
      const f = figures();
      this.report(f.connections, f.users).catch(onError);
    };
    tick();
    this.#timer = setInterval(tick, intervalMs);
    this.#timer.unref();
  }

  /** Stops reporting and removes this gateway's report (best effort: it also goes stale by itself). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#o.redis.hdel(this.#key, this.#o.serverId).catch(() => {});
  }

  /** The live reports, by server id; stale and unreadable fields are deleted. */
  async list(): Promise<GatewayReport[]> {
    const all = await this.#o.redis.hgetall(this.#key);
    const now = Date.now();
    const live: GatewayReport[] = [];
    const stale: string[] = [];
    for (const [field, raw] of Object.entries(all)) {
      const r = parseReport(raw);
      if (r && now - r.at <= this.#o.timeoutMs) live.push(r);
      else stale.push(field);
    }
    if (stale.length > 0) await this.#o.redis.hdel(this.#key, ...stale);
    return live.sort((a, b) => a.serverId.localeCompare(b.serverId));
  }
}

function parseReport(raw: string): GatewayReport | undefined {
  try {
    const r = JSON.parse(raw) as Partial<GatewayReport>;
    if (typeof r.serverId === 'string' && typeof r.at === 'number' && typeof r.connections === 'number')
      return { serverId: r.serverId, connections: r.connections, users: Number(r.users ?? 0), at: r.at };
  } catch {
    // unreadable: stale
  }
  return undefined;
}
