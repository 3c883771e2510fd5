// One message a consumer took from a queue, as the transport hands it to the router's consumers.
// The transport owns it (amqp-consumer.ts implements it over amqplib): the consumers read what
// they need through it and settle it through it, and never see an AMQP message or channel.

/**
 * The broker's properties of a delivered message (these, and the others it came with: a copy keeps
 * them all), for republishing it unchanged apart from what the copy overrides (dead-lettering).
 */
export interface DeliveryProperties {
  type?: string | undefined;
  messageId?: string | undefined;
  userId?: string | undefined;
  headers?: Record<string, unknown> | undefined;
}

/** A message taken from a queue. Settle it exactly once: ack() or requeue(). */
export interface Delivery {
  /** The message body. */
  readonly body: Buffer;
  /** AMQP `type`: tells a bundle (`dispatch.bundle`, `write.bundle`) from a single envelope. */
  readonly type: string | undefined;
  /** AMQP `message_id`: the dispatch id, or a durable write's id. */
  readonly messageId: string | undefined;
  /** AMQP `user_id`: the broker account that published it (RabbitMQ checks it at publish). */
  readonly userId: string | undefined;
  /** The broker delivered it before (to this or another consumer). */
  readonly redelivered: boolean;
  /** Earlier deliveries of it (quorum `x-delivery-count`), 0 on the first. */
  readonly deliveryCount: number;
  /** Every property as the broker delivered it. */
  readonly properties: DeliveryProperties;
  /** Done: removes it from the queue (acks of one event-loop turn go out together). */
  ack(): void;
  /** Not done: back to the queue at once (counts toward the queue's delivery limit). */
  requeue(): void;
}
