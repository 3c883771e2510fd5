// The router's publishing: durable writes to `<prefix>.persist` (coalesced into write bundles, group
// commit, confirmed), dispatches to the route exchanges (one envelope, or many as dispatch bundles)
// and dead letters to `<prefix>.dlx`. The guarantees are stated on the Router methods that call it.
import { randomUUID } from 'node:crypto';
import { BROADCAST_KEY, broadcastAbove } from './broadcast.js';
import type { DeadLetter } from './dead-letter.js';
import { BUNDLE_TYPE, bundlesOf, encodeRecord } from './dispatch-bundle.js';
import {
  type DispatchEnvelope,
  type DurableWrite,
  dispatchProblem,
  durableWriteProblem,
  PROTOCOL_VERSION,
} from './envelope.js';
import { InvalidEnvelopeError, NackError, QueueFullError } from './errors.js';
import type { RouterMetrics } from './metrics.js';
import type { ResolvedRouterOptions } from './options.js';
import type { DispatchTarget, Route, RoutingKeys } from './routing-keys.js';
import type { TopologyNames } from './topology.js';
import type { PublishProperties, Session } from './transport-amqp.js';
import { type PendingWrite, WRITE_BUNDLE_TYPE, WriteCoalescer } from './write-bundle.js';

export interface DispatchOptions {
  /** Wait for the broker's confirm (the dispatch reached the exchanges). Default false. */
  confirm?: boolean;
  /** Wait this long for a connection during an outage. Default `outageWaitMs`. */
  waitMs?: number;
  /**
   * The dispatch's id (AMQP `message_id`), shared by its per-partition publishes so that consumers
   * keep one copy. Give the event id when there is one (a re-dispatch of the same event is then
   * recognised too); default: a fresh random id.
   */
  id?: string;
}

export interface PublisherDeps {
  options: ResolvedRouterOptions;
  names: TopologyNames;
  keys: RoutingKeys;
  metrics: RouterMetrics;
  /** Whether the router is connected and ready now. */
  isReady: () => boolean;
  /** The session to publish on, waiting up to `waitMs` for a reconnect; rejects when closed or unavailable. */
  session: (waitMs: number) => Promise<Session>;
}

export class Publisher {
  readonly #d: PublisherDeps;
  readonly #o: ResolvedRouterOptions;
  readonly #names: TopologyNames;
  readonly #keys: RoutingKeys;
  readonly #metrics: RouterMetrics;
  readonly #writes: WriteCoalescer;
  /** Where a broadcast is published: the front exchange, with the key every gateway queue binds. */
  readonly #broadcastRoute: Route;
  #threshold: { session: Session | undefined; above: number } = { session: undefined, above: 0 };

  constructor(deps: PublisherDeps) {
    this.#d = deps;
    this.#o = deps.options;
    this.#names = deps.names;
    this.#keys = deps.keys;
    this.#metrics = deps.metrics;
    this.#broadcastRoute = { exchange: deps.names.frontExchange, keys: [BROADCAST_KEY] };
    this.#writes = new WriteCoalescer(
      (group) => this.#publishWrites(group),
      deps.options.writesInFlight,
      deps.options.writeIntervalMs,
    );
  }

  /** Router.durableWrite: validates, then queues the write for the coalescer (or publishes it alone). */
  async durableWrite(envelope: DurableWrite): Promise<void> {
    const problem = durableWriteProblem(envelope);
    if (problem) throw new InvalidEnvelopeError(`invalid durable write: ${problem}`);
    const json = JSON.stringify(envelope);
    if (!this.#d.isReady()) await this.#d.session(this.#o.outageWaitMs);
    return new Promise<void>((resolve, reject) => {
      const write = { json, type: envelope.type, id: envelope.id, resolve, reject };
      if (this.#o.coalesceWrites) this.#writes.add(write);
      else void this.#publishWrites([write]);
    });
  }

  /** Publishes writes as one message (a write bundle when there are several); settles each on the confirm. */
  async #publishWrites(group: PendingWrite[]): Promise<void> {
    const started = performance.now();
    try {
      const session = await this.#d.session(this.#o.outageWaitMs);
      const single = group.length === 1 ? group[0]! : undefined;
      const body = Buffer.from(single ? single.json : group.map((w) => w.json).join('\n'));
      const props = single
        ? this.#props(single.type, single.id, true)
        : this.#props(WRITE_BUNDLE_TYPE, randomUUID(), true);
      if (this.#o.amqpUser !== undefined) props.userId = this.#o.amqpUser;
      await session.publishConfirmed('', this.#names.persistQueue, body, props, this.#o.confirmTimeoutMs);
      this.#metrics.confirmSeconds.observe({ kind: 'durable' }, (performance.now() - started) / 1000);
      this.#metrics.publishes.inc({ kind: 'durable', outcome: 'ok' });
      this.#metrics.durableWrites.observe(group.length);
      for (const w of group) w.resolve();
    } catch (err) {
      // A nack on the persist queue is its `x-overflow: reject-publish` at `x-max-length`.
      const e =
        err instanceof NackError ? new QueueFullError(`${this.#names.persistQueue} is full`, { cause: err }) : err;
      this.#metrics.publishes.inc({ kind: 'durable', outcome: (e as { code?: string }).code ?? 'error' });
      for (const w of group) w.reject(e);
    }
  }

  /**
   * Router.dispatch: one publish per route of the target's keys, or, above the broadcast threshold
   * (broadcast.ts), one publish to every gateway queue as a one-record bundle naming the keys.
   */
  async dispatch(envelope: DispatchEnvelope, target: DispatchTarget, options: DispatchOptions = {}): Promise<number> {
    const problem = dispatchProblem(envelope);
    if (problem) throw new InvalidEnvelopeError(`invalid dispatch: ${problem}`);
    const keys = [...this.#keys.keysOf(target)];
    if (keys.length === 0) return 0;
    const id = options.id ?? randomUUID();
    const session = await this.#d.session(options.waitMs ?? this.#o.outageWaitMs);
    if (this.#broadcasts(keys.length, session)) {
      const body = Buffer.from(encodeRecord(id, keys, envelope));
      return this.#publishRouted(session, [this.#broadcastRoute], BUNDLE_TYPE, body, id, options);
    }
    const body = Buffer.from(JSON.stringify(envelope));
    return this.#publishRouted(session, this.#keys.routes(keys), 'dispatch', body, id, options);
  }

  /** Router.dispatchMany: the records as bundles, each published to the routes of its keys (or broadcast). */
  async dispatchMany(
    items: ReadonlyArray<{ envelope: DispatchEnvelope; target: DispatchTarget; id?: string }>,
    options: Omit<DispatchOptions, 'id'> = {},
  ): Promise<number> {
    const records: Array<{ line: string; keys: string[] }> = [];
    for (const item of items) {
      const problem = dispatchProblem(item.envelope);
      if (problem) throw new InvalidEnvelopeError(`invalid dispatch: ${problem}`);
      const keys = [...this.#keys.keysOf(item.target)];
      if (keys.length === 0) continue;
      records.push({ line: encodeRecord(item.id ?? randomUUID(), keys, item.envelope), keys });
    }
    if (records.length === 0) return 0;
    const session = await this.#d.session(options.waitMs ?? this.#o.outageWaitMs);
    const sends: Array<Promise<number>> = [];
    for (const bundle of bundlesOf(records)) {
      const keys = new Set<string>();
      for (const r of bundle) for (const k of r.keys) keys.add(k);
      const body = Buffer.from(bundle.map((r) => r.line).join(''));
      // In user granularity a bundle goes to each partition it touches; a queue bound in several
      // gets several copies, and its consumer keeps one per record id.
      const routes = this.#broadcasts(keys.size, session) ? [this.#broadcastRoute] : this.#keys.routes([...keys]);
      sends.push(this.#publishRouted(session, routes, BUNDLE_TYPE, body, randomUUID(), options));
    }
    const counts = await Promise.all(sends);
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Whether a dispatch to this many keys goes to every gateway queue on this connection's broker. */
  #broadcasts(keyCount: number, session: Session): boolean {
    // The threshold depends only on the broker's version: resolved once per connection.
    if (this.#threshold.session !== session) {
      this.#threshold = { session, above: broadcastAbove(this.#o.broadcastAboveKeys, session.brokerVersion) };
    }
    return keyCount > this.#threshold.above;
  }

  async #publishRouted(
    session: Session,
    routes: Route[],
    type: string,
    body: Buffer,
    id: string,
    options: Omit<DispatchOptions, 'id'>,
  ): Promise<number> {
    const kind = 'dispatch';
    const started = performance.now();
    try {
      const sends: Promise<void>[] = [];
      for (const { exchange, keys } of routes) {
        const props = this.#props(type, id, false);
        if (keys.length > 1) props.CC = keys.slice(1);
        sends.push(
          options.confirm
            ? session.publishConfirmed(exchange, keys[0]!, body, props, this.#o.confirmTimeoutMs)
            : session.publish(exchange, keys[0]!, body, props),
        );
      }
      await Promise.all(sends);
      if (options.confirm) this.#metrics.confirmSeconds.observe({ kind }, (performance.now() - started) / 1000);
      this.#metrics.publishes.inc({ kind, outcome: 'ok' }, routes.length);
      if (routes[0] === this.#broadcastRoute) this.#metrics.broadcasts.inc();
      return routes.length;
    } catch (err) {
      this.#metrics.publishes.inc({ kind, outcome: (err as { code?: string }).code ?? 'error' });
      throw err;
    }
  }

  /** Publishes a dead letter to `<prefix>.dlx`, resolving once the broker confirmed it. */
  async deadLetter(letter: DeadLetter): Promise<void> {
    const session = await this.#d.session(this.#o.outageWaitMs);
    await session.publishConfirmed(
      this.#names.deadExchange,
      '',
      letter.content,
      letter.properties as PublishProperties,
      this.#o.confirmTimeoutMs,
    );
  }

  #props(type: string, id: string | undefined, persistent: boolean) {
    return {
      contentType: 'application/json',
      messageId: id,
      timestamp: Math.floor(Date.now() / 1000),
      type,
      persistent,
      headers: { v: PROTOCOL_VERSION },
    } as {
      contentType: string;
      messageId?: string;
      timestamp: number;
      type: string;
      persistent: boolean;
      headers: Record<string, unknown>;
      CC?: string[];
      userId?: string;
    };
  }
}
