// The transport's consumers: one queue consumed on a channel of its own, each message handed over
// as a Delivery whose ack goes through the channel's AckBatcher (coalesced `basic.ack multiple`)
// and whose requeue is an immediate `basic.nack`. Part of the transport: it speaks amqplib.

import type { Logger } from '@chat/protocol';
import type { Channel, ConsumeMessage } from 'amqplib';
import { AckBatcher } from './ack-batcher.js';
import type { Delivery, DeliveryProperties } from './delivery.js';

/** A Delivery over an amqplib message; its fields are read from the message when asked for. */
class AmqpDelivery implements Delivery {
  readonly #msg: ConsumeMessage;
  readonly #acks: AckBatcher;

  constructor(msg: ConsumeMessage, acks: AckBatcher) {
    this.#msg = msg;
    this.#acks = acks;
  }

  get body(): Buffer {
    return this.#msg.content;
  }

  get type(): string | undefined {
    return this.#msg.properties.type as string | undefined;
  }

  get messageId(): string | undefined {
    return this.#msg.properties.messageId as string | undefined;
  }

  get userId(): string | undefined {
    return this.#msg.properties.userId as string | undefined;
  }

  get redelivered(): boolean {
    return this.#msg.fields.redelivered;
  }

  get deliveryCount(): number {
    return Number(this.#msg.properties.headers?.['x-delivery-count'] ?? 0);
  }

  get properties(): DeliveryProperties {
    return this.#msg.properties as DeliveryProperties;
  }

  ack(): void {
    this.#acks.ack(this.#msg);
  }

  requeue(): void {
    this.#acks.nack(this.#msg, true);
  }
}

/** What the transport needs from its session to run a consumer. */
export interface ConsumerHost {
  /** Closes one channel without recycling the connection. */
  closeChannel(ch: Channel): Promise<void>;
  /** The broker cancelled a consumer (queue deleted, node gone): rebuild the connection. */
  recycle(): void;
}

/** A running consumer of one queue. */
export class AmqpConsumer {
  readonly #host: ConsumerHost;
  readonly #ch: Channel;
  readonly #acks: AckBatcher;
  #tag = '';

  private constructor(host: ConsumerHost, ch: Channel) {
    this.#host = host;
    this.#ch = ch;
    this.#acks = new AckBatcher(ch);
    ch.once('close', () => this.#acks.close());
  }

  /**
   * Consumes `queue` on `ch` (a channel of its own, prefetch already set): every message reaches
   * `onDelivery` in queue order, once per broker delivery. A cancel by the broker recycles the connection.
   */
  static async start(
    host: ConsumerHost,
    ch: Channel,
    queue: string,
    onDelivery: (delivery: Delivery) => void,
    logger: Logger,
  ): Promise<AmqpConsumer> {
    const consumer = new AmqpConsumer(host, ch);
    const acks = consumer.#acks;
    const { consumerTag } = await ch.consume(queue, (msg) => {
      if (msg === null) {
        logger.warn({ queue }, 'consumer cancelled by the broker; recycling the connection');
        host.recycle();
        return;
      }
      acks.track(msg);
      onDelivery(new AmqpDelivery(msg, acks));
    });
    consumer.#tag = consumerTag;
    return consumer;
  }

  /**
   * Stops deliveries (basic.cancel) after sending the acks given so far; the channel stays open,
   * so acks given later still reach the broker when close() closes it.
   */
  async cancel(): Promise<void> {
    this.#acks.flush();
    await this.#ch.cancel(this.#tag).catch(() => {});
  }

  /** Sends the pending acks, then closes the channel (its close-ok follows the acks). */
  async close(): Promise<void> {
    this.#acks.flush();
    this.#acks.close();
    await this.#host.closeChannel(this.#ch);
  }
}
