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

/** Each channel's members (slots or users), as a batch's dispatch addresses them. */
export type Audience = Map<string, Membership>;

/**
 * A batch's dispatch in two parts, so that the memberships are read while the batch is being stored
 * (one store round trip, or two for DMs this process has not seen, off each batch's path):
 * - `readAudience(channelIds)`: reads the channels' memberships (retried while the store's failure is
 *   transient). Called once the batch's writes were received, so a membership change completed before
 *   a write was sent is always seen; one racing the batch's store may or may not be, as before.
 * - `publish(writes, audience, turn)`: dispatches `writes` (stored, in batch order) to their channels'
 *   members once `turn` is ready, and passes the turn as soon as its publish has started: batches are
 *   stored concurrently, but their events are published in batch order, so a channel's events reach
 *   the gateways in queue order. Resolves once the broker confirmed; rejects when the audience could
 *   not be read or the publish failed for good.
 */
export interface DispatchBatch {
  readAudience(channelIds: ReadonlySet<string>): Promise<Audience>;
  publish(writes: readonly ValidWrite[], audience: Promise<Audience>, turn: Turn): Promise<void>;
}

export function createDispatch(deps: {
  router: DispatchRouter;
  channels: Pick<Channels, 'membershipMany'>;
  messages: Pick<Messages, 'get'>;
  retry: Retry;
}): DispatchBatch {
  const { router, retry } = deps;
  const current = (channelId: string, messageId: string) =>
    retry('store', () => deps.messages.get(channelId, messageId), storeTransient);
  return {
    readAudience: (channelIds) => retry('store', () => deps.channels.membershipMany(channelIds), storeTransient),
    async publish(writes, audiencePromise, turn) {
      const [audience, envelopes] = await Promise.all([
        audiencePromise,
        Promise.all(writes.map((w) => envelopeFor(w, current))),
      ]);
      const events: MemberEvent[] = [];
      envelopes.forEach((envelope, i) => {
        if (envelope) events.push({ envelope, membership: audience.get(envelope.channel_id!)!, id: writes[i]!.id });
      });
      await turn.ready;
      const published = retry('dispatch', () => publishToMembers(router, events), routerTransient);
      turn.pass();
      await published;
    },
  };
}
