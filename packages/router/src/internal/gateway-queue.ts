// Which queue a gateway consumes, across broker-node losses. The queue `<prefix>.gw.<serverId>` is a
// classic queue: it lives on one node (the one the gateway reached when it was declared), and while
// that node is down it can be neither declared nor consumed (404 "home node … down"). Waiting for the
// node would leave the gateway's sockets connected and deaf, so the gateway moves to a fresh
// incarnation `<prefix>.gw.<serverId>.<n>` on a node that is up, declared like the first one:
// durable with `x-expires`, so that a short blip of the connection (the queue's node staying up) keeps
// its bindings and backlog, and so that an abandoned incarnation vanishes by itself — a classic queue's
// `x-expires` counts from its node's restart while nothing consumes or declares it, so the old queue,
// back with its node, receives copies for at most `gatewayQueueExpiresMs` and is then deleted with
// its bindings. An incarnation that was given up is never taken again by this process.
//
// The queue is bounded (`x-max-length`, `x-max-length-bytes`, overflow `drop-head`): a gateway that is
// gone, or too slow, cannot make the broker hold its copies without limit — every gateway queue binds the
// broadcast key, so a dead gateway's queue would otherwise collect every broadcast for `x-expires`. Past
// the bound the oldest copies are dropped. A gateway that comes back to a queue holding `x-max-length`
// messages reports the loss (router.ts: `dispatch-gap`, `queue-overflowed`), and its sockets RESUME.
// A queue an earlier version declared with other arguments cannot be redeclared (PRECONDITION_FAILED):
// the gateway moves to the next incarnation, and the old queue, no longer declared, expires.
import type { Channel } from 'amqplib';

/** Bounds and lifetime of a gateway queue (its declaration arguments). */
export interface GatewayQueueSpec {
  /** `x-expires`: how long the queue outlives its last consumer. */
  expiresMs: number;
  /** `x-max-length` (messages); 0: no argument. */
  maxLength: number;
  /** `x-max-length-bytes` (message bodies); 0: no argument. */
  maxBytes: number;
}

/**
 * How a gateway queue was found when it was declared: `existed` (with `messages` ready at that moment),
 * `created`, or unusable — its node is down, or it exists with other arguments.
 */
export type QueueClaim =
  | { state: 'existed'; messages: number }
  | { state: 'created' }
  | { state: 'home-node-down' }
  | { state: 'other-arguments' };

/** At most this many incarnations are tried per connection before the connection is recycled. */
export const MAX_QUEUE_ATTEMPTS = 8;

/** Name of incarnation `n` of a gateway's queue: the plain name for 0. ServerIds hold no dots, so names never collide. */
export function gatewayQueueIncarnation(base: string, n: number): string {
  return n === 0 ? base : `${base}.${n}`;
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown }).code === 404;
}

function isOtherArguments(err: unknown): boolean {
  return (err as { code?: unknown }).code === 406;
}

/** The arguments a gateway queue is declared with. */
export function gatewayQueueArguments(spec: GatewayQueueSpec): Record<string, unknown> {
  return {
    'x-expires': spec.expiresMs,
    ...(spec.maxLength > 0 ? { 'x-max-length': spec.maxLength } : {}),
    ...(spec.maxBytes > 0 ? { 'x-max-length-bytes': spec.maxBytes } : {}),
    ...(spec.maxLength > 0 || spec.maxBytes > 0 ? { 'x-overflow': 'drop-head' } : {}),
  };
}

/**
 * Declares a gateway's queue (durable, bounded, `x-expires`) and says how it was found. A passive
 * declare first: it succeeds when the queue exists (and counts its messages), and fails 404 either when
 * it does not (the active declare then creates it) or when its node is down (the active declare fails
 * 404 too). The active declare of an existing queue fails 406 when it was declared with other arguments.
 * Each step runs on a scratch channel of its own, since a 404 or 406 closes the channel it happened on.
 * Other errors reject.
 */
export async function claimGatewayQueue(
  openChannel: () => Promise<Channel>,
  name: string,
  spec: GatewayQueueSpec,
): Promise<QueueClaim> {
  const attempt = async <T>(step: (ch: Channel) => Promise<T>): Promise<T | 404 | 406> => {
    const ch = await openChannel();
    ch.on('error', () => {});
    try {
      return await step(ch);
    } catch (err) {
      if (isNotFound(err)) return 404;
      if (isOtherArguments(err)) return 406;
      throw err;
    } finally {
      await ch.close().catch(() => {});
    }
  };
  const declare = (ch: Channel) => ch.assertQueue(name, { durable: true, arguments: gatewayQueueArguments(spec) });
  const existing = await attempt((ch) => ch.checkQueue(name));
  const declared = await attempt(declare);
  if (declared === 404) return { state: 'home-node-down' };
  if (declared === 406) return { state: 'other-arguments' };
  // Declared again when it existed, so that other arguments surface as PRECONDITION_FAILED.
  return typeof existing === 'object' ? { state: 'existed', messages: existing.messageCount } : { state: 'created' };
}
