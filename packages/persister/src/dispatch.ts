// Delivering a batch's stored writes to the members' gateways: each write's event, addressed to its
// channel's members (slots or users), published as bundles in batch order and confirmed by the broker.
import { type DispatchEnvelope, dispatchToMembers, type Router } from '@chat/router';
import type { Channels, Membership, Messages } from '@chat/store';
import { envelopeFor } from './envelope.js';
import { type Retry, routerTransient, storeTransient } from './retry.js';
import type { Turn } from './turns.js';
import type { ValidWrite } from './validate.js';

/** The router calls this module makes. */
export type DispatchRouter = Pick<Router, 'dispatchMany'> & {
  readonly options: Pick<Router['options'], 'granularity'>;
};

/** One event for a channel's members; `id` (the write's event id) lets gateways drop a re-dispatch. */
interface MemberEvent {
  envelope: DispatchEnvelope;
  membership: Membership;
  id: string;
}

/**
 * Publishes `events` to the members' gateways, confirmed: resolves once the broker holds every one
 * (at-least-once: a retry re-publishes them all; gateways drop ids they already handed over).
 * One broker message per 256 events, in the order given.
 */
function publishToMembers(router: DispatchRouter, events: readonly MemberEvent[]): Promise<number> {
  return router.dispatchMany(
    events.map((e) => ({ envelope: e.envelope, target: dispatchToMembers(router.options, e.membership), id: e.id })),
    { confirm: true },
  );
}

/**
 * Dispatches `writes` (stored, in batch order) once `turn` is ready, and passes the turn as soon as
 * its publish has started: batches are stored concurrently, but their events are published in batch
 * order, so a channel's events reach the gateways in queue order. Resolves once the broker confirmed.
 */
export type DispatchBatch = (writes: readonly ValidWrite[], turn: Turn) => Promise<void>;

export function createDispatch(deps: {
  router: DispatchRouter;
  channels: Pick<Channels, 'membershipMany'>;
  messages: Pick<Messages, 'get'>;
  retry: Retry;
}): DispatchBatch {
  const { router, retry } = deps;
  const current = (channelId: string, messageId: string) =>
    retry('store', () => deps.messages.get(channelId, messageId), storeTransient);
  return async (writes, turn) => {
    const channelIds = new Set(writes.map((w) => w.channel_id));
    const audience = await retry('store', () => deps.channels.membershipMany(channelIds), storeTransient);
    const envelopes = await Promise.all(writes.map((w) => envelopeFor(w, current)));
    const events: MemberEvent[] = [];
    envelopes.forEach((envelope, i) => {
      if (envelope) events.push({ envelope, membership: audience.get(envelope.channel_id!)!, id: writes[i]!.id });
    });
    await turn.ready;
    const published = retry('dispatch', () => publishToMembers(router, events), routerTransient);
    turn.pass();
    await published;
  };
}
