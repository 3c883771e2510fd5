// Fixtures for the consumers' tests. A Delivery as the transport hands one over, without a broker:
// it records how it was settled, and fails the test when it is settled twice (the transport's
// contract is exactly once).
import type { Delivery, DeliveryProperties } from '../../src/internal/delivery.js';
import type { DispatchEnvelope } from '../../src/internal/envelope.js';

export class FakeDelivery implements Delivery {
  readonly body: Buffer;
  readonly properties: DeliveryProperties;
  readonly redelivered: boolean;
  /** How it was settled: undefined until it is. */
  settledAs: 'ack' | 'requeue' | undefined;
  #settled: () => void = () => {};
  /** Resolves when it is settled. */
  readonly settled: Promise<void>;

  constructor(body: string, properties: DeliveryProperties = {}, redelivered = false) {
    this.body = Buffer.from(body);
    this.properties = properties;
    this.redelivered = redelivered;
    this.settled = new Promise((resolve) => {
      this.#settled = resolve;
    });
  }

  get type(): string | undefined {
    return this.properties.type;
  }

  get messageId(): string | undefined {
    return this.properties.messageId;
  }

  get userId(): string | undefined {
    return this.properties.userId;
  }

  get deliveryCount(): number {
    return Number(this.properties.headers?.['x-delivery-count'] ?? 0);
  }

  ack(): void {
    this.#settle('ack');
  }

  requeue(): void {
    this.#settle('requeue');
  }

  #settle(how: 'ack' | 'requeue'): void {
    if (this.settledAs !== undefined) throw new Error(`settled twice: ${this.settledAs}, then ${how}`);
    this.settledAs = how;
    this.#settled();
  }
}

/** A promise with its resolve function, for handlers that finish when the test says so. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A MESSAGE_CREATE dispatch to channel c1 whose data carries `text`. */
export const textDispatch = (text: string): DispatchEnvelope => ({
  v: 1,
  type: 'dispatch',
  event: 'MESSAGE_CREATE',
  channel_id: 'c1',
  data: { content: text },
});
