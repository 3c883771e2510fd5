// Names and declaration of the RabbitMQ objects of PROTOCOL.md §2. Declaring is idempotent:
// the same options declare the same objects; different arguments on an existing queue are a
// broker error (PRECONDITION_FAILED), which surfaces instead of silently diverging.
import type { Channel } from 'amqplib';
import { partitionOf } from './hashing.js';
import type { Logger } from './logger.js';
import { declarePersistQueue } from './persist-queue.js';

export interface TopologySpec {
  prefix: string;
  partitions: number;
  /** S: the front exchange gets one binding per slot. */
  slots: number;
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
   * `<prefix>.route`, the front exchange (direct): bound to each route exchange by that partition's
   * slot keys, so one publish with many slot keys reaches every gateway queue once.
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
 * Declares the route exchanges, the front exchange with its S slot bindings (spread over `lanes`:
 * one RPC at a time per channel), the persist quorum queue and its dead-letter pair.
 *
 * `frontExists`, when given, is asked first whether the front exchange already exists; if it does,
 * its bindings are taken as in place and not declared again (S binding RPCs on every reconnect would
 * slow recovery). Give it only after this process has declared the bindings once: a process that
 * crashed half-way through declaring them is followed by one that declares them all.
 */
export async function declareTopology(
  ch: Channel,
  spec: TopologySpec,
  lanes: readonly Channel[] = [ch],
  frontExists?: () => Promise<boolean>,
): Promise<void> {
  const names = topologyNames(spec.prefix, spec.partitions);
  await Promise.all(names.routeExchanges.map((ex) => ch.assertExchange(ex, 'topic', { durable: true })));
  const bound = frontExists ? await frontExists() : false;
  await ch.assertExchange(names.frontExchange, 'direct', { durable: true });
  if (!bound) {
    await Promise.all(
      lanes.map(async (lane, i) => {
        for (let slot = i; slot < spec.slots; slot += lanes.length) {
          await lane.bindExchange(
            names.routeExchanges[partitionOf(slot, spec.partitions)]!,
            names.frontExchange,
            `s.${slot}`,
          );
        }
      }),
    );
  }
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

/** Declares a gateway's queue: durable so a short broker blip keeps its bindings and backlog, expiring once unused. */
export async function declareGatewayQueue(ch: Channel, name: string, expiresMs: number): Promise<void> {
  await ch.assertQueue(name, { durable: true, arguments: { 'x-expires': expiresMs } });
}
