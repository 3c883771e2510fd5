// One server's AMQP connection for the hand-written seed routings (queue-per-user, redis-map,
// fanout): a channel for declarations and consumers, a channel for publishing that honours flow
// control, and coalesced acks. Messages carry the message object's JSON as body and the channel id
// in a header, so a consumer forwards the bytes to its sockets without parsing them.
// No recovery: the seeds had none, and a lost connection ends the server (`onLost`).
import { once } from 'node:events';
import amqp from 'amqplib';

/** Unacked messages per consumer: bounds what the broker may push ahead of this process. */
const PREFETCH = 256;

export type DeliveryHandler = (channelId: string, payloadJson: string) => void;

export class AmqpLink {
  readonly #connection: amqp.ChannelModel;
  /** Declarations, bindings, consumers and acks (one RPC at a time, in call order). */
  readonly control: amqp.Channel;
  readonly #publisher: amqp.Channel;
  #drained: Promise<void> | undefined;
  #ackPending: amqp.ConsumeMessage | undefined;
  #closing = false;

  private constructor(connection: amqp.ChannelModel, control: amqp.Channel, publisher: amqp.Channel) {
    this.#connection = connection;
    this.control = control;
    this.#publisher = publisher;
  }

  static async open(url: string, name: string, onLost: (reason: string, err?: unknown) => void): Promise<AmqpLink> {
    const connection = await amqp.connect(url, { clientProperties: { connection_name: name } });
    const control = await connection.createChannel();
    const publisher = await connection.createChannel();
    await control.prefetch(PREFETCH);
    const link = new AmqpLink(connection, control, publisher);
    let lastError: unknown;
    const remember = (err: unknown) => {
      lastError = err;
    };
    connection.on('error', remember);
    control.on('error', remember);
    publisher.on('error', remember);
    const lost = (what: string) => () => {
      if (!link.#closing) onLost(`AMQP ${what} closed`, lastError);
    };
    connection.on('close', lost('connection'));
    control.on('close', lost('control channel'));
    publisher.on('close', lost('publish channel'));
    return link;
  }

  /**
   * Publishes at most once (no confirms). Returns undefined when the message was handed to the
   * socket; while the socket buffer is full (amqplib's flow control) it returns a promise that
   * publishes after the drain: a caller awaiting those cannot outrun the broker connection.
   */
  publish(exchange: string, routingKey: string, channelId: string, payload: Buffer): Promise<void> | undefined {
    if (this.#drained) return this.#drained.then(() => this.publish(exchange, routingKey, channelId, payload));
    const ok = this.#publisher.publish(exchange, routingKey, payload, {
      headers: { c: channelId },
      contentType: 'application/json',
    });
    if (!ok) {
      this.#drained = once(this.#publisher, 'drain').then(() => {
        this.#drained = undefined;
      });
    }
    return undefined;
  }

  /** Consumes `queue`, handing each message's channel id and body over; resolves with the consumer tag. */
  async consume(queue: string, handler: DeliveryHandler): Promise<string> {
    const { consumerTag } = await this.control.consume(queue, (msg) => {
      if (!msg) return; // cancelled by the broker (queue deleted)
      const channelId = msg.properties.headers?.c;
      if (typeof channelId === 'string') handler(channelId, msg.content.toString('utf8'));
      this.#ack(msg);
    });
    return consumerTag;
  }

  /** Acks given in one event-loop turn go out as one `basic.ack` with `multiple` (handlers are synchronous). */
  #ack(msg: amqp.ConsumeMessage): void {
    const first = this.#ackPending === undefined;
    this.#ackPending = msg;
    if (!first) return;
    setImmediate(() => {
      const last = this.#ackPending;
      this.#ackPending = undefined;
      if (last && !this.#closing) this.control.ack(last, true);
    });
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    if (this.#ackPending) this.control.ack(this.#ackPending, true);
    this.#ackPending = undefined;
    this.#closing = true;
    await this.#connection.close().catch(() => {});
  }
}
