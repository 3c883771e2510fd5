// Local fan-out: the one place where envelopes consumed from this gateway's queue meet its sockets.
// The hub owns the local index (who hears what here), the router's consume handler (an envelope to its
// local audience) and membership updates (announced to the users concerned; applied to the index by
// every gateway that consumes them, so sockets start or stop hearing a channel without reconnecting).

import type { Logger } from '@chat/protocol';
import type { DispatchEnvelope, Router } from '@chat/router';
import type { WriteAdmission } from './admission.js';
import { dedupeKey } from './dedupe-key.js';
import { endToEnd } from './end-to-end-latency.js';
import { LocalIndex, type Member } from './local-index.js';
import type { GatewayMetrics } from './metrics.js';

/** The dispatch events that change which channels a user's sockets hear. */
export type MembershipEvent = 'CHANNEL_CREATE' | 'CHANNEL_MEMBER_ADD' | 'CHANNEL_MEMBER_REMOVE';

export interface HubOptions {
  /** Announcements are dispatched through it. */
  router: Pick<Router, 'dispatch'>;
  metrics: GatewayMetrics;
  /** Fed the whole path's latency of this gateway's own writes. */
  admission: WriteAdmission;
  /** This process's snowflake worker id: which MESSAGE_CREATEs are this gateway's own writes. */
  workerId: number;
  logger: Logger;
}

export class Hub {
  /** Which local sockets hear which channels and users. */
  readonly index = new LocalIndex();
  readonly #o: HubOptions;

  constructor(options: HubOptions) {
    this.#o = options;
  }

  /**
   * The router's consume handler (one per process). Guarantees: a membership event is applied to the
   * index before it is delivered, so its own audience already reflects it; every local socket of the
   * envelope's audience (`to` users, else the channel's members) gets it once, the payload serialised
   * once and framed per socket with that socket's sequence; nothing is awaited (the router's delivery
   * guarantee — at most once for dispatches — is unchanged).
   */
  readonly deliver = (env: DispatchEnvelope): void => {
    const index = this.index;
    const { metrics, admission } = this.#o;
    const path = endToEnd(env, Date.now());
    if (path !== undefined) {
      metrics.endToEndSeconds.observe(path.seconds);
      // This gateway's own writes coming back: the whole path's latency, on this machine's clock.
      if (path.workerId === this.#o.workerId) admission.pathCameBack(path.id, path.seconds * 1000);
    }
    this.#applyMembership(env);
    const audience: Member[] = [];
    if (env.to) {
      // `skip_session`: the session whose own action the event reports has its answer already.
      const skip = env.skip_session;
      for (const user of env.to)
        for (const m of index.membersOfUser(user)) if (skip === undefined || m.sessionId !== skip) audience.push(m);
    } else if (env.channel_id !== undefined) {
      for (const m of index.membersOfChannel(env.channel_id)) audience.push(m);
    }
    metrics.envelopes.inc({ audience: audience.length > 0 ? 'local' : 'none' });
    if (audience.length === 0) return;
    // Serialised once per envelope, framed per socket (each frame has that socket's sequence).
    const payloadJson = JSON.stringify(env.data);
    const key = dedupeKey(env.event, env.data);
    for (const m of audience) m.deliver(env.event, payloadJson, key);
  };

  /**
   * Tells the users `to` (on whichever gateways hold them) of a membership change already stored.
   * Guarantees: resolves once the broker routed it (publisher confirm); never throws — an announcement
   * that fails is logged, and the sockets concerned pick the change up at their next IDENTIFY.
   */
  async announce(event: MembershipEvent, to: string[], data: unknown): Promise<void> {
    try {
      await this.#o.router.dispatch({ v: 1, type: 'dispatch', event, to, data }, { users: to }, { confirm: true });
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message, event }, 'membership change stored but not announced');
    }
  }

  /** Membership events change which channels local sockets hear, on whichever gateway holds them. */
  #applyMembership(env: DispatchEnvelope): void {
    const index = this.index;
    const d = env.data as { channel_id?: string; user_id?: string; id?: string; member_ids?: string[] } | null;
    if (!d) return;
    if (env.event === 'CHANNEL_MEMBER_ADD' && d.channel_id && d.user_id) {
      for (const m of index.membersOfUser(d.user_id)) index.subscribe(m, d.channel_id);
    } else if (env.event === 'CHANNEL_MEMBER_REMOVE' && d.channel_id && d.user_id) {
      for (const m of index.membersOfUser(d.user_id)) index.unsubscribe(m, d.channel_id);
    } else if (env.event === 'CHANNEL_CREATE' && d.id && Array.isArray(d.member_ids)) {
      for (const u of d.member_ids) for (const m of index.membersOfUser(u)) index.subscribe(m, d.id);
    }
  }
}
