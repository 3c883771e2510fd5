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
import type { Channel } from 'amqplib';

/** How a gateway queue was found when it was declared. */
export type QueueClaim = 'existed' | 'created' | 'home-node-down';

/** At most this many incarnations are tried per connection before the connection is recycled. */
export const MAX_QUEUE_ATTEMPTS = 8;

/** Name of incarnation `n` of a gateway's queue: the plain name for 0. ServerIds hold no dots, so names never collide. */
export function gatewayQueueIncarnation(base: string, n: number): string {
  return n === 0 ? base : `${base}.${n}`;
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown }).code === 404;
}

/**
 * Declares a gateway's queue (durable, `x-expires`) and says whether it existed. A passive declare
 * first: it succeeds when the queue exists, and fails 404 either when it does not (the active declare
 * then creates it) or when its node is down (the active declare fails 404 too). Each step runs on a
 * scratch channel of its own, since a 404 closes the channel it happened on. Other errors (e.g.
 * PRECONDITION_FAILED for other arguments) reject.
 */
export async function claimGatewayQueue(
  openChannel: () => Promise<Channel>,
  name: string,
  expiresMs: number,
): Promise<QueueClaim> {
  const attempt = async (step: (ch: Channel) => Promise<unknown>): Promise<boolean> => {
    const ch = await openChannel();
    ch.on('error', () => {});
    try {
      await step(ch);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    } finally {
      await ch.close().catch(() => {});
    }
  };
  const declare = (ch: Channel) => ch.assertQueue(name, { durable: true, arguments: { 'x-expires': expiresMs } });
  if (await attempt((ch) => ch.checkQueue(name))) {
    // Declared again so that other arguments surface as PRECONDITION_FAILED, as for every declaration.
    return (await attempt(declare)) ? 'existed' : 'home-node-down';
  }
  return (await attempt(declare)) ? 'created' : 'home-node-down';
}
