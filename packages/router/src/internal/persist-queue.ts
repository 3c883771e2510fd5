// Declaration of the persist quorum queue, bounded by `x-max-length` with `x-overflow:
// reject-publish`: past the bound the broker nacks publishes (the router turns that into
// QueueFullError) instead of letting the durable path's backlog grow without limit.
//
// Existing deployments: a queue's arguments cannot change once it exists. Declaring `chat.persist`
// with an `x-max-length` it was not created with is PRECONDITION_FAILED (406), which closes the
// channel — before this, the router recycled its connection forever. We cannot set a policy
// instead: policies are not reachable over AMQP (management API or rabbitmqctl only), and a
// library must not need admin rights. So the declaration runs on a scratch channel; on 406 the
// router checks that the queue exists (passive declare), keeps working with the queue as it is,
// and logs a warning that names the fix (a policy, which RabbitMQ applies to the existing queue
// without recreating it). Nothing is lost and nothing stops; the bound is missing until the
// operator acts, and the log says so on every (re)connect.
import type { Logger } from '@chat/protocol';
import type { Channel } from 'amqplib';

export interface PersistQueueSpec {
  name: string;
  deadExchange: string;
  /** `x-delivery-limit`. */
  deliveryLimit: number;
  /** `x-max-length` (messages); 0 leaves the queue unbounded by argument (e.g. a policy bounds it). */
  maxLength: number;
}

/** The arguments the router declares the persist queue with. */
export function persistQueueArguments(spec: PersistQueueSpec): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': spec.deliveryLimit,
    'x-dead-letter-exchange': spec.deadExchange,
    // At-least-once dead-lettering: a poison message is never lost between the two queues.
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
    ...(spec.maxLength > 0 ? { 'x-max-length': spec.maxLength } : {}),
  };
}

/** The rabbitmqctl command that bounds an existing persist queue without recreating it. */
export function persistPolicyCommand(spec: PersistQueueSpec): string {
  const pattern = `^${spec.name.replace(/[.]/g, '\\.')}$`;
  return (
    `rabbitmqctl set_policy --apply-to queues ${spec.name}-bound '${pattern}' ` +
    `'{"max-length":${spec.maxLength || 100000},"overflow":"reject-publish"}'`
  );
}

/**
 * Declares the persist queue on channels of its own (a 406 closes the channel it happens on).
 * Resolves `declared`, or `existing` when the queue exists with other arguments (logged at warn).
 */
export async function declarePersistQueue(
  openChannel: () => Promise<Channel>,
  spec: PersistQueueSpec,
  logger: Logger,
): Promise<'declared' | 'existing'> {
  const args = persistQueueArguments(spec);
  try {
    await onScratch(openChannel, (ch) => ch.assertQueue(spec.name, { durable: true, arguments: args }));
    return 'declared';
  } catch (err) {
    if ((err as { code?: number }).code !== 406) throw err;
    // Passive: succeeds for an existing queue whatever its arguments; a missing queue is a 404.
    await onScratch(openChannel, (ch) => ch.checkQueue(spec.name));
    logger.warn(
      { queue: spec.name, wanted: args, err: (err as Error).message },
      `the existing queue ${spec.name} was declared with other arguments (most likely without x-max-length): ` +
        'using it as it is, so the durable backlog is NOT bounded by the router. Bound it with a policy: ' +
        `${persistPolicyCommand(spec)} (or delete the queue while it is empty and let the router declare it)`,
    );
    return 'existing';
  }
}

async function onScratch<T>(openChannel: () => Promise<Channel>, fn: (ch: Channel) => Promise<T>): Promise<T> {
  const ch = await openChannel();
  ch.on('error', () => {}); // a channel error rejects fn's promise; the listener keeps it off the connection
  try {
    return await fn(ch);
  } finally {
    await ch.close().catch(() => {});
  }
}
