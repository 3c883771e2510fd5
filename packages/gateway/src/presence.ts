// Presence on the ephemeral path: a user is online while it has a socket on any live gateway. This
// gateway tells the registry (Redis) when a user's first local socket identifies and when its last one
// closes, beats once per `heartbeatMs` for all its users together, and claims gateways that stopped
// beating. A change — first socket anywhere, last socket anywhere, a dead gateway's users — is sent as
// PRESENCE_UPDATE to the user's presence audience (presence-audience.ts) with the router's at-most-once
// dispatch(). Nothing here runs on the message path.

import type { Logger } from '@chat/protocol';
import type { Router } from '@chat/router';
import type { Channel, Store } from '@chat/store';
import pLimit, { type LimitFunction } from 'p-limit';
import { GraceTimers } from './grace-timers.js';
import { GroupSizes } from './group-sizes.js';
import type { GatewayMetrics } from './metrics.js';
import { type AudienceLimits, presenceAudience } from './presence-audience.js';
import type { PresenceRegistry } from './presence-registry.js';

export type PresenceStatus = 'online' | 'offline';

/** One user's presence: the payload of PRESENCE_UPDATE, and an entry of READY's `presences`. */
export interface PresenceEntry {
  user_id: string;
  status: PresenceStatus;
}

/** What a session needs of presence. */
export interface PresencePort {
  /**
   * A socket of `userId` identified here; `first`: it is the user's only socket on this gateway.
   * With `snapshot`, resolves with the presence of the user's audience for READY / RESUMED (undefined when
   * Redis or the store failed). Never rejects.
   */
  connected(
    userId: string,
    channels: readonly Pick<Channel, 'id' | 'kind'>[],
    first: boolean,
    snapshot: boolean,
  ): Promise<PresenceEntry[] | undefined>;
  /** The user's last socket on this gateway closed. */
  disconnected(userId: string): void;
}

export interface PresenceOptions {
  registry: PresenceRegistry;
  router: Router;
  channels: Pick<Store['channels'], 'membership' | 'memberCount'>;
  /**
   * The user's channels (ids and kinds), read now: the audience of an offline announcement, whose socket
   * (which knew them) is gone. The gateway batches these reads per event-loop turn (batched-reads.ts), so
   * a mass disconnect costs one query per 256 users, not one per user.
   */
  memberChannels: (userId: string) => Promise<readonly Pick<Channel, 'id' | 'kind'>[]>;
  limits: AudienceLimits;
  heartbeatMs: number;
  /**
   * A user whose last socket closed is announced offline only if it is still offline this much later; a
   * reconnect to this gateway meanwhile announces nothing (reloads and reconnects do not flap). 0: at once.
   */
  offlineGraceMs: number;
  /** Users waiting out their grace at most; past it, a user who leaves is announced offline at once. Default 100 000. */
  maxLeaving?: number;
  /**
   * Audience reads (MongoDB) and announcements (broker) running at once; the rest wait their turn.
   * Default 16. Why: when every socket of a gateway closes at once, 10,000 leaves ended their grace
   * together and ran 10,000 audience reads at once — the gateway's RSS 15 s later was 3.4× its start (w3).
   */
  concurrency?: number;
  /**
   * Called when a user's presence work has finished. The gateway counts it as churn for its idle
   * garbage collection (idle-gc.ts): a mass disconnect's offline work runs after the grace, when the
   * collection for the closes themselves may already have run, and leaves its own garbage.
   */
  onActivity?: () => void;
  /** The users with sockets on this gateway now. */
  localUsers: () => Iterable<string>;
  localUserCount: () => number;
  metrics: GatewayMetrics;
  logger: Logger;
}

/** Users of a dead gateway whose audiences are computed at once. */
const REAP_CONCURRENCY = 4;

export class Presence implements PresencePort {
  readonly #o: PresenceOptions;
  /** Bounds the store and broker work of presence (`concurrency`). */
  readonly #limit: LimitFunction;
  /** Per user, the end of its pending presence work: one user's joins and leaves run in order. */
  readonly #chains = new Map<string, Promise<void>>();
  /** Users whose last socket here closed less than `offlineGraceMs` ago: still listed here, not announced. */
  readonly #leaving: GraceTimers;
  #timer: NodeJS.Timeout | undefined;
  #beating = false;
  #lastWarn = 0;

  constructor(options: PresenceOptions) {
    // Every IDENTIFY asks how big the user's groups are: counts are remembered for 30 s (group-sizes.ts).
    const sizes = new GroupSizes((id, upTo) => options.channels.memberCount(id, upTo));
    this.#o = {
      ...options,
      channels: {
        membership: (id) => options.channels.membership(id),
        memberCount: (id, upTo) => sizes.memberCount(id, upTo),
      },
    };
    this.#limit = pLimit(options.concurrency ?? 16);
    this.#leaving = new GraceTimers(options.offlineGraceMs, options.maxLeaving ?? 100_000, (userId) =>
      this.#serial(userId, () => this.#leave(userId)),
    );
  }

  /** Users waiting out their grace, or with presence work pending or running. */
  get busy(): boolean {
    return this.#leaving.size > 0 || this.#chains.size > 0;
  }

  /**
   * The first heartbeat (this gateway counts as alive before any user joins), then one per `heartbeatMs`.
   * Users an earlier process with this server id left listed go offline (unless they are elsewhere).
   */
  async start(): Promise<void> {
    try {
      const leftovers = await this.#o.registry.takeOver();
      if (leftovers.length > 0) {
        this.#o.logger.info({ users: leftovers.length }, 'presence: taking over what a previous process left');
        void this.#offlineAll(leftovers).catch((err: unknown) => this.#failed(err, 'presence change failed'));
      }
    } catch (err) {
      this.#failed(err, 'presence: reading what a previous process left failed');
    }
    await this.#beat();
    this.#timer = setInterval(() => void this.#beat(), this.#o.heartbeatMs);
    this.#timer.unref();
  }

  connected(
    userId: string,
    channels: readonly Pick<Channel, 'id' | 'kind'>[],
    first: boolean,
    snapshot: boolean,
  ): Promise<PresenceEntry[] | undefined> {
    if (!first && !snapshot) return Promise.resolve(undefined);
    const audience = this.#limit(() => presenceAudience(this.#o.channels, userId, channels, this.#o.limits));
    audience.catch(() => {}); // observed below; a failure is reported once, by whoever awaits it
    if (first && this.#leaving.cancel(userId)) {
      // Back within the grace (checked synchronously: its leave was not queued): still listed here, and its
      // audience never heard it leave.
      this.#o.metrics.presence.inc({ change: 'returned' });
    } else if (first) {
      this.#serial(userId, async () => {
        if (await this.#o.registry.join(userId)) await this.#announce(userId, 'online', await audience);
      });
    }
    if (!snapshot) return Promise.resolve(undefined);
    return (async () => {
      try {
        const users = await audience;
        const online = await this.#o.registry.online(users);
        return users.map((u, i): PresenceEntry => ({ user_id: u, status: online[i] ? 'online' : 'offline' }));
      } catch (err) {
        this.#failed(err, 'presence for READY unavailable');
        return undefined;
      }
    })();
  }

  /**
   * The user's last socket here closed. It stays listed here (online, for every reader) for the grace;
   * then it leaves, and is announced offline if no other live gateway lists it. No grace, or too many
   * users waiting out theirs: at once.
   */
  disconnected(userId: string): void {
    if (this.#o.offlineGraceMs > 0 && this.#leaving.start(userId)) return;
    this.#serial(userId, () => this.#leave(userId));
  }

  async #leave(userId: string): Promise<void> {
    if (await this.#o.registry.leave(userId)) await this.#announceFresh(userId, 'offline');
    else this.#o.metrics.presence.inc({ change: 'still_online' });
  }

  /** Stops beating, waits (until `deadline`) for pending changes, then leaves the registry. */
  async stop(deadline: number): Promise<void> {
    clearInterval(this.#timer);
    // Pending changes first (users whose sockets just closed), then the graces still running, at once.
    await this.#settled(deadline);
    this.#leaving.flush();
    await this.#settled(deadline);
    await this.#o.registry.stop().catch((err: unknown) => this.#failed(err, 'presence: leaving the registry failed'));
  }

  /** Waits for every pending change, until `deadline` at most. */
  async #settled(deadline: number): Promise<void> {
    const pending = Promise.allSettled([...this.#chains.values()]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      pending,
      new Promise((r) => {
        timer = setTimeout(r, Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
  }

  /** Runs `work` after the user's earlier presence work; failures are counted and logged, never thrown. */
  #serial(userId: string, work: () => Promise<void>): void {
    const next = (this.#chains.get(userId) ?? Promise.resolve())
      .then(work)
      .catch((err: unknown) => this.#failed(err, 'presence change failed'))
      .finally(() => this.#o.onActivity?.());
    this.#chains.set(userId, next);
    void next.then(() => {
      if (this.#chains.get(userId) === next) this.#chains.delete(userId);
    });
  }

  /** The change, to an audience read now (the user's socket that knew its channels is gone). */
  async #announceFresh(userId: string, status: PresenceStatus): Promise<void> {
    await this.#announce(userId, status, await this.#audienceNow(userId));
  }

  /**
   * Who hears the user, from its channels read now. The channel read is outside the concurrency bound, so
   * that the reads of a mass disconnect share batched queries (a channel list per user is small); the
   * audience reads are `concurrency` at once.
   */
  async #audienceNow(userId: string): Promise<string[]> {
    const channels = await this.#o.memberChannels(userId);
    return this.#limit(() => presenceAudience(this.#o.channels, userId, channels, this.#o.limits));
  }

  /** PRESENCE_UPDATE to the audience's users, at most once (dropped while the broker is away). */
  async #announce(userId: string, status: PresenceStatus, audience: string[]): Promise<void> {
    this.#o.metrics.presence.inc({ change: status });
    if (audience.length === 0) return;
    const data: PresenceEntry = { user_id: userId, status };
    await this.#limit(() =>
      this.#o.router.dispatch(
        { v: 1, type: 'dispatch', event: 'PRESENCE_UPDATE', to: audience, data },
        { users: audience },
        { waitMs: 0 },
      ),
    );
  }

  async #beat(): Promise<void> {
    if (this.#beating) return;
    this.#beating = true;
    try {
      const beat = await this.#o.registry.beat(this.#o.localUserCount());
      if (beat.lost) {
        // Another gateway took this one for dead (or Redis evicted its set): its users join again.
        this.#o.logger.warn('presence entries of this gateway were lost; registering its users again');
        for (const u of [...this.#o.localUsers()]) {
          this.#serial(u, async () => {
            if (await this.#o.registry.join(u)) await this.#announceFresh(u, 'online');
          });
        }
      }
      for (const dead of beat.stale) await this.#reap(dead);
    } catch (err) {
      this.#failed(err, 'presence heartbeat failed');
    } finally {
      this.#beating = false;
    }
  }

  /** A gateway stopped beating: if this one wins the claim, its users who are nowhere else go offline. */
  async #reap(serverId: string): Promise<void> {
    const users = await this.#o.registry.claim(serverId);
    if (users === null) return;
    this.#o.logger.info({ gateway: serverId, users: users.length }, 'claimed a dead gateway');
    await this.#offlineAll(users);
  }

  /** Offline for each of `users` (left by a dead process) that is on no live gateway. */
  async #offlineAll(users: string[]): Promise<void> {
    const online = await this.#o.registry.online(users);
    const gone = users.filter((_, i) => !online[i]);
    this.#o.metrics.presence.inc({ change: 'reaped' }, users.length);
    for (let i = 0; i < gone.length; i += REAP_CONCURRENCY) {
      await Promise.all(
        gone
          .slice(i, i + REAP_CONCURRENCY)
          .map((u) => this.#reapUser(u).catch((err: unknown) => this.#failed(err, 'presence change failed'))),
      );
    }
  }

  /**
   * Offline for one user of a dead gateway, checked again just before the dispatch: a user that came
   * back on a live gateway meanwhile (announced online there) is left alone.
   */
  async #reapUser(userId: string): Promise<void> {
    const audience = await this.#audienceNow(userId);
    if ((await this.#o.registry.online([userId]))[0]) return;
    await this.#announce(userId, 'offline', audience);
  }

  #failed(err: unknown, what: string): void {
    this.#o.metrics.presence.inc({ change: 'error' });
    if (Date.now() - this.#lastWarn > 10_000) {
      this.#lastWarn = Date.now();
      this.#o.logger.warn({ err: (err as Error).message }, what);
    }
  }
}
