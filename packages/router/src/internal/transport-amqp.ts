// The transport: the one layer that speaks AMQP (with amqp-consumer.ts and ack-batcher.ts, which
// it runs, and topology.ts / persist-queue.ts, the declarations it applies). One recovering
// connection (amqplib's opt-in recovery), rotated over the configured broker URLs; after every
// (re)connect a fresh Session of channels is built and handed to the router's setup hook before the
// connection counts as ready. The router sees Sessions, Consumers and Deliveries, never amqplib.
import { EventEmitter } from 'node:events';
import type { Logger } from '@chat/protocol';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';
import { AmqpConsumer } from './amqp-consumer.js';
import type { Delivery } from './delivery.js';
import { ConfirmTimeoutError, ConnectionLostError, NackError } from './errors.js';
import { claimGatewayQueue, type GatewayQueueSpec, type QueueClaim } from './gateway-queue.js';
import type { RouterTlsOptions } from './tls.js';
import { checkTopology, declareTopology, type TopologySpec } from './topology.js';

export interface TransportOptions {
  urls: readonly string[];
  connectionName: string;
  /** AMQP heartbeat in seconds: how fast a silent broker is noticed. */
  heartbeatSeconds: number;
  /** Socket connect timeout, ms. */
  connectTimeoutMs: number;
  reconnectInitialDelayMs: number;
  reconnectMaxDelayMs: number;
  /** Binding lanes: channels used for bind/unbind. */
  lanes: number;
  /** For amqps:// URLs: options of tls.connect (validated by resolveTls). */
  tls?: Readonly<RouterTlsOptions> | undefined;
  logger: Logger;
  /** Runs on every new connection before it counts as ready; throwing makes amqplib retry. */
  setup: (session: Session) => Promise<void>;
}

function toConnectOptions(url: string): Options.Connect {
  const u = new URL(url);
  const protocol = u.protocol.replace(/:$/, '');
  return {
    protocol,
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : protocol === 'amqps' ? 5671 : 5672,
    username: u.username ? decodeURIComponent(u.username) : 'guest',
    password: u.password ? decodeURIComponent(u.password) : 'guest',
    vhost: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : '/',
    heartbeat: u.searchParams.has('heartbeat') ? Number(u.searchParams.get('heartbeat')) : undefined,
  };
}

/** Redacts credentials for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

type RecoveringModel = Awaited<ReturnType<typeof amqp.connect>> & {
  waitForConnect(): Promise<unknown>;
};

/**
 * Events: 'ready' (session) after setup on each connection; 'disconnect' (error) when it drops;
 * 'reconnect-scheduled' ({attempt, delay, url}).
 */
export class AmqpTransport extends EventEmitter {
  readonly #opts: TransportOptions;
  readonly #target: Options.Connect;
  #urlIndex = 0;
  #model: RecoveringModel | null = null;
  #session: Session | null = null;
  #closing = false;

  constructor(options: TransportOptions) {
    super();
    this.#opts = options;
    // amqplib reads the URL object's fields on every attempt, so rotating its host and port
    // between attempts gives recovery over a list of cluster nodes.
    this.#target = { ...toConnectOptions(options.urls[0]!), heartbeat: options.heartbeatSeconds };
  }

  get session(): Session | null {
    return this.#session;
  }

  get currentUrl(): string {
    return this.#opts.urls[this.#urlIndex]!;
  }

  /** Starts connecting; resolves immediately. Watch 'ready'. */
  async start(): Promise<void> {
    const log = this.#opts.logger;
    const model = (await amqp.connect(this.#target, {
      ...this.#opts.tls,
      clientProperties: { connection_name: this.#opts.connectionName },
      timeout: this.#opts.connectTimeoutMs,
      noDelay: true,
      recovery: {
        initialDelay: this.#opts.reconnectInitialDelayMs,
        maxDelay: this.#opts.reconnectMaxDelayMs,
        maxRetries: Number.POSITIVE_INFINITY,
        waitForConnect: false,
        setup: (raw: ChannelModel) => this.#setup(raw),
      },
    })) as unknown as RecoveringModel;
    this.#model = model;
    model.on('connect', () => {
      if (this.#session && !this.#session.closed) this.emit('ready', this.#session);
    });
    model.on('disconnect', (err: Error) => {
      this.#session?.markClosed();
      this.#session = null;
      if (!this.#closing) this.emit('disconnect', err);
    });
    model.on('connect-failed', (err: Error) => {
      log.warn({ err: err.message, url: redactUrl(this.currentUrl) }, 'amqp connect attempt failed');
    });
    model.on('reconnect-scheduled', (info: { attempt: number; delay: number }) => {
      this.#rotate();
      this.emit('reconnect-scheduled', { ...info, url: redactUrl(this.currentUrl) });
    });
    model.on('error', (err: Error) => log.warn({ err: err.message }, 'amqp connection error'));
    model.on('handler-error', (err: Error, event: string) =>
      log.error({ err, event }, 'listener threw inside amqplib event'),
    );
    model.on('blocked', (reason: string) => log.warn({ reason }, 'broker blocked the connection'));
    model.on('unblocked', () => log.info('broker unblocked the connection'));
  }

  #rotate(): void {
    if (this.#opts.urls.length < 2) return;
    this.#urlIndex = (this.#urlIndex + 1) % this.#opts.urls.length;
    const next = toConnectOptions(this.currentUrl);
    Object.assign(this.#target, next, { heartbeat: next.heartbeat ?? this.#opts.heartbeatSeconds });
  }

  async #setup(raw: ChannelModel): Promise<void> {
    const session = await Session.open(raw, this.#opts.lanes, this.#opts.logger);
    try {
      this.#session = session;
      await this.#opts.setup(session);
    } catch (err) {
      this.#opts.logger.warn({ err: (err as Error).message }, 'amqp session setup failed; reconnecting');
      session.markClosed();
      if (this.#session === session) this.#session = null;
      throw err;
    }
  }

  /** Closes the connection for good; the router is done. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#session?.markClosed();
    this.#session = null;
    await this.#model?.close().catch(() => {});
  }
}

interface Gate {
  blocked: Promise<void> | null;
}

/**
 * The channels of one connection, kept to itself: the router binds, publishes, consumes and declares
 * through its methods. A channel that closes on its own recycles the whole connection.
 */
export class Session {
  readonly #model: ChannelModel;
  readonly #control: Channel;
  readonly #lanes: Channel[];
  readonly #publisher: Channel;
  readonly #confirmer: ConfirmChannel;
  readonly #logger: Logger;
  readonly #gates = new Map<Channel, Gate>();
  readonly #closingOnPurpose = new WeakSet<Channel>();
  #closed = false;

  private constructor(
    model: ChannelModel,
    control: Channel,
    lanes: Channel[],
    publisher: Channel,
    confirmer: ConfirmChannel,
    logger: Logger,
  ) {
    this.#model = model;
    this.#control = control;
    this.#lanes = lanes;
    this.#publisher = publisher;
    this.#confirmer = confirmer;
    this.#logger = logger;
  }

  static async open(model: ChannelModel, laneCount: number, logger: Logger): Promise<Session> {
    const [control, publisher, confirmer, ...lanes] = await Promise.all([
      model.createChannel(),
      model.createChannel(),
      model.createConfirmChannel(),
      ...Array.from({ length: laneCount }, () => model.createChannel()),
    ]);
    const session = new Session(model, control!, lanes as Channel[], publisher!, confirmer as ConfirmChannel, logger);
    for (const ch of [control!, publisher!, confirmer!, ...lanes]) session.#watch(ch as Channel);
    return session;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The `version` the broker announced when this connection opened (e.g. `3.10.8`), if any. */
  get brokerVersion(): string | undefined {
    const props = (this.#model as unknown as { connection?: { serverProperties?: Record<string, unknown> } }).connection
      ?.serverProperties;
    const version = props?.version;
    return version === undefined ? undefined : String(version);
  }

  markClosed(): void {
    this.#closed = true;
  }

  #watch(ch: Channel): void {
    ch.on('error', (err: Error) => this.#logger.warn({ err: err.message }, 'amqp channel error'));
    ch.on('handler-error', (err: Error, event: string) =>
      this.#logger.error({ err, event }, 'listener threw inside amqplib channel event'),
    );
    ch.on('close', () => {
      if (this.#closed || this.#closingOnPurpose.has(ch)) return;
      // A channel error (e.g. a deleted exchange or queue) leaves this session half-working.
      // Closing the connection makes amqplib reconnect and rebuild everything through setup.
      this.#logger.warn('amqp channel closed unexpectedly; recycling the connection');
      this.recycle();
    });
  }

  /** Drops this connection so that recovery builds a new one. */
  recycle(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#model.close().catch(() => {});
  }

  /** Closes one channel of this session without recycling the connection. */
  async closeChannel(ch: Channel): Promise<void> {
    this.#closingOnPurpose.add(ch);
    await ch.close().catch(() => {});
  }

  /**
   * Consumes `queue` on a channel of its own with `prefetch` unacked deliveries: each message reaches
   * `onDelivery` in queue order as a Delivery to settle once. A cancel by the broker recycles the connection.
   */
  async consume(queue: string, prefetch: number, onDelivery: (delivery: Delivery) => void): Promise<AmqpConsumer> {
    const ch = await this.#model.createChannel();
    this.#watch(ch);
    await ch.prefetch(prefetch);
    return AmqpConsumer.start(this, ch, queue, onDelivery, this.#logger);
  }

  /**
   * Declares the shared topology (topology.ts), or with `declare` false only checks that it exists
   * (passive declares, for accounts without `configure` permission); rejects naming what is missing.
   */
  async ensureTopology(spec: Omit<TopologySpec, 'openChannel' | 'logger'>, declare: boolean): Promise<void> {
    const full = { ...spec, openChannel: () => this.#model.createChannel(), logger: this.#logger };
    if (declare) await declareTopology(this.#control, full);
    else await checkTopology(full.openChannel, full);
  }

  /**
   * Declares a gateway's own queue (durable, bounded, `x-expires`) on scratch channels and says whether
   * it existed, was created, or cannot be had: its home node is down, or it has other arguments
   * (gateway-queue.ts).
   */
  claimGatewayQueue(name: string, spec: GatewayQueueSpec): Promise<QueueClaim> {
    return claimGatewayQueue(() => this.#model.createChannel(), name, spec);
  }

  /** Messages ready in a queue, as the broker reports it now. */
  async messageCount(queue: string): Promise<number> {
    return (await this.#control.checkQueue(queue)).messageCount;
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.#control.deleteQueue(queue);
  }

  bind(queue: string, exchange: string, key: string, lane: number): Promise<void> {
    return this.#lanes[lane]!.bindQueue(queue, exchange, key).then(() => undefined);
  }

  unbind(queue: string, exchange: string, key: string, lane: number): Promise<void> {
    return this.#lanes[lane]!.unbindQueue(queue, exchange, key).then(() => undefined);
  }

  /** Waits while a channel's write buffer is full (its publish returned false) until 'drain'. */
  async #whenWritable(ch: Channel): Promise<void> {
    const gate = this.#gates.get(ch);
    if (gate?.blocked) await gate.blocked;
  }

  #noteBackpressure(ch: Channel, ok: boolean): void {
    if (ok) return;
    const g = this.#gates.get(ch) ?? { blocked: null };
    this.#gates.set(ch, g);
    if (g.blocked) return;
    g.blocked = new Promise<void>((resolve) => {
      const done = () => {
        ch.removeListener('drain', done);
        ch.removeListener('close', done);
        g.blocked = null;
        resolve();
      };
      ch.on('drain', done);
      ch.on('close', done);
    });
  }

  /** Fire-and-forget publish (no confirm); waits first if the channel is applying backpressure. */
  async publish(exchange: string, routingKey: string, body: Buffer, props: Options.Publish): Promise<void> {
    await this.#whenWritable(this.#publisher);
    if (this.#closed) throw new ConnectionLostError('connection closed before publishing');
    this.#noteBackpressure(this.#publisher, this.#publisher.publish(exchange, routingKey, body, props));
  }

  /** Publishes on the confirm channel; resolves on basic.ack, rejects on nack, close or timeout. */
  async publishConfirmed(
    exchange: string,
    routingKey: string,
    body: Buffer,
    props: Options.Publish,
    timeoutMs: number,
  ): Promise<void> {
    await this.#whenWritable(this.#confirmer);
    if (this.#closed) throw new ConnectionLostError('connection closed before publishing');
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new ConfirmTimeoutError(`no broker confirm within ${timeoutMs} ms`));
      }, timeoutMs);
      const ok = this.#confirmer.publish(exchange, routingKey, body, props, (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!err) resolve();
        else if (err instanceof Error && err.message === 'message nacked')
          reject(new NackError('the broker nacked the message', { cause: err }));
        else reject(new ConnectionLostError('the channel closed before the broker confirmed', { cause: err }));
      });
      this.#noteBackpressure(this.#confirmer, ok);
    });
  }
}

export type { AmqpConsumer as Consumer } from './amqp-consumer.js';
/** Properties of a published message (amqplib's names: `messageId`, `userId`, `CC`, `headers`, …). */
export type PublishProperties = Options.Publish;
