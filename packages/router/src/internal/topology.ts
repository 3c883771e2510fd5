// Names and declaration of the RabbitMQ objects of docs/protocol.md §2. Declaring is idempotent:
// the same options declare the same objects; different arguments on an existing queue are a
// broker error (PRECONDITION_FAILED), which surfaces instead of silently diverging.
import type { Logger } from '@chat/protocol';
import type { Channel } from 'amqplib';
import { declarePersistQueue } from './persist-queue.js';

export interface TopologySpec {
  prefix: string;
  partitions: number;
  /** `x-delivery-limit` of the persist queue. */
  persistDeliveryLimit: number;
  /** `x-max-length` of the persist queue (0: none); see persist-queue.ts for existing queues. */
  persistMaxLength: number;
  /** Opens a channel of the same connection: the persist queue is declared on its own channels. */
  openChannel: () => Promise<Channel>;
  logger: Logger;
}

export interface TopologyNames {
  /**
   * `<prefix>.route`, the front exchange (direct): in slot granularity every gateway queue binds its
   * slot keys here too, so one publish with many slot keys reaches each queue once, routed by one
   * exact-key lookup per key.
   */
  frontExchange: string;
  routeExchanges: readonly string[];
  persistQueue: string;
  deadExchange: string;
  deadQueue: string;
}

/** Names of the shared objects for a prefix and partition count. */
export function topologyNames(prefix: string, partitions: number): TopologyNames {
  return {
    frontExchange: `${prefix}.route`,
    routeExchanges: Array.from({ length: partitions }, (_, p) => `${prefix}.route.${p}`),
    persistQueue: `${prefix}.persist`,
    deadExchange: `${prefix}.dlx`,
    deadQueue: `${prefix}.persist.dead`,
  };
}

/** Name of a gateway process's own queue. */
export function gatewayQueueName(prefix: string, serverId: string): string {
  return `${prefix}.gw.${serverId}`;
}

/**
 * Declares the route exchanges, the front exchange (gateway queues bind their slot keys on it as well
 * as on their partition's route exchange), the persist quorum queue and its dead-letter pair.
 */
export async function declareTopology(ch: Channel, spec: TopologySpec): Promise<void> {
  const names = topologyNames(spec.prefix, spec.partitions);
  await Promise.all(names.routeExchanges.map((ex) => ch.assertExchange(ex, 'topic', { durable: true })));
  await ch.assertExchange(names.frontExchange, 'direct', { durable: true });
  await ch.assertExchange(names.deadExchange, 'fanout', { durable: true });
  await ch.assertQueue(names.deadQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue(names.deadQueue, names.deadExchange, '');
  await declarePersistQueue(
    spec.openChannel,
    {
      name: names.persistQueue,
      deadExchange: names.deadExchange,
      deliveryLimit: spec.persistDeliveryLimit,
      maxLength: spec.persistMaxLength,
    },
    spec.logger,
  );
}

/**
 * Checks (passively: declares nothing, needs no `configure` permission) that the shared topology exists,
 * for services whose broker account may not declare it (it comes from definitions or an operator).
 * Rejects, naming what is missing, when it does not.
 */
export async function checkTopology(openChannel: () => Promise<Channel>, spec: TopologySpec): Promise<void> {
  const names = topologyNames(spec.prefix, spec.partitions);
  const exchanges = [...names.routeExchanges, names.frontExchange, names.deadExchange];
  const queues = [names.persistQueue, names.deadQueue];
  for (const [kind, list] of [
    ['exchange', exchanges],
    ['queue', queues],
  ] as const) {
    for (const name of list) {
      // A missing resource closes the channel (404): one scratch channel per check.
      const ch = await openChannel();
      ch.on('error', () => {});
      try {
        await (kind === 'exchange' ? ch.checkExchange(name) : ch.checkQueue(name));
      } catch (err) {
        throw new Error(
          `the ${kind} ${name} does not exist and this router does not declare the topology ` +
            `(declareTopology: false): import it (infra/rabbitmq/definitions.json) or let a router with ` +
            `declareTopology: true declare it once (${(err as Error).message})`,
        );
      } finally {
        await ch.close().catch(() => {});
      }
    }
  }
}
