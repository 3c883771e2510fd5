// The gateway's Prometheus metrics.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type GatewayMetrics = ReturnType<typeof createMetrics>;

const LATENCY = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** End to end includes waiting in the persist queue: up to minutes when the persisters fall behind. */
const END_TO_END = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Health of what a gateway depends on, as its /readyz checks it. */
export type DependencyChecks = {
  broker: boolean;
  redis: boolean;
  mongodb: boolean;
};

export function createMetrics(
  registry: Registry,
  connections: () => number,
  inflightWrites: () => number = () => 0,
  bufferedBytes: () => number = () => 0,
  dependencies?: () => Promise<DependencyChecks>,
  pathWindow: () => { onPath: number; limit: number } | undefined = () => undefined,
) {
  const registers = [registry];
  return {
    connections: new Gauge({
      name: 'chat_gateway_connections',
      help: 'Open WebSocket connections',
      registers,
      collect() {
        this.set(connections());
      },
    }),
    identifies: new Counter({
      name: 'chat_gateway_identifies_total',
      help: 'IDENTIFY and RESUME attempts, by kind and outcome',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    }),
    requests: new Counter({
      name: 'chat_gateway_requests_total',
      help: 'WebSocket requests, by method and outcome (ok or the error code)',
      labelNames: ['method', 'outcome'] as const,
      registers,
    }),
    identifyStepSeconds: new Histogram({
      name: 'chat_gateway_identify_step_seconds',
      help: 'IDENTIFY/RESUME: time waiting at each step (token check, RESUME rate check, attach = routing key bound, channels, replay read, presence snapshot beyond the replay)',
      labelNames: ['kind', 'step'] as const,
      buckets: LATENCY,
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'chat_gateway_request_seconds',
      help: 'WebSocket request handling time, by method',
      labelNames: ['method'] as const,
      buckets: LATENCY,
      registers,
    }),
    sendConfirmSeconds: new Histogram({
      name: 'chat_gateway_send_confirm_seconds',
      help: 'message.create: durable write published → broker confirm',
      buckets: LATENCY,
      registers,
    }),
    endToEndSeconds: new Histogram({
      name: 'chat_gateway_end_to_end_seconds',
      help: 'message.create: durable write published (time in the message id) → its MESSAGE_CREATE dispatch received by this gateway; across machines, includes their clock difference',
      buckets: END_TO_END,
      registers,
    }),
    dependencyUp: new Gauge({
      name: 'chat_gateway_dependency_up',
      help: '1 when a dependency passes the /readyz check (broker connected with topology; Redis connected; MongoDB answers ping), at scrape time',
      labelNames: ['dependency'] as const,
      registers,
      async collect() {
        if (!dependencies) return;
        const checks = await dependencies();
        for (const [dependency, up] of Object.entries(checks)) this.set({ dependency }, up ? 1 : 0);
      },
    }),
    httpRequests: new Counter({
      name: 'chat_gateway_http_requests_total',
      help: 'HTTP API requests, by route and status',
      labelNames: ['route', 'status'] as const,
      registers,
    }),
    deliveries: new Counter({
      name: 'chat_gateway_deliveries_total',
      help: 'DISPATCH frames sent to sockets',
      registers,
    }),
    envelopes: new Counter({
      name: 'chat_gateway_envelopes_total',
      help: 'Envelopes consumed from this gateway queue, by whether any local socket wanted them',
      labelNames: ['audience'] as const,
      registers,
    }),
    replayed: new Counter({
      name: 'chat_gateway_replayed_total',
      help: 'Events replayed by RESUME',
      registers,
    }),
    bufferedBytes: new Gauge({
      name: 'chat_gateway_buffered_bytes',
      help: 'Bytes queued in the gateway for open sockets (the sum of their send buffers), at scrape time',
      registers,
      collect() {
        this.set(bufferedBytes());
      },
    }),
    skippedEphemeral: new Counter({
      name: 'chat_gateway_skipped_ephemeral_total',
      help: 'Ephemeral events skipped for sockets over their backpressure limit',
      registers,
    }),
    slowConsumerCloses: new Counter({
      name: 'chat_gateway_slow_consumer_closes_total',
      help: 'Sockets closed with 4008 for staying over the backpressure limit',
      registers,
    }),
    rateLimited: new Counter({
      name: 'chat_gateway_rate_limited_total',
      help: 'Rate-limit hits, by scope (connection, user, http)',
      labelNames: ['scope'] as const,
      registers,
    }),
    rejectedFrames: new Counter({
      name: 'chat_gateway_rejected_frames_total',
      help: 'Connections closed for bad input, by close code',
      labelNames: ['code'] as const,
      registers,
    }),
    overloaded: new Counter({
      name: 'chat_gateway_overloaded_total',
      help: 'Durable writes refused with overloaded, by reason (gateway, latency, connection, queue_full)',
      labelNames: ['reason'] as const,
      registers,
    }),
    inflightWrites: new Gauge({
      name: 'chat_gateway_inflight_writes',
      help: 'Durable writes admitted and not yet answered',
      registers,
      collect() {
        this.set(inflightWrites());
      },
    }),
    pathMessages: new Gauge({
      name: 'chat_gateway_path_messages',
      help: "This gateway's confirmed messages whose MESSAGE_CREATE has not come back yet (the whole path's window, admission)",
      registers,
      collect() {
        const path = pathWindow();
        if (path) this.set(path.onPath);
      },
    }),
    pathWindow: new Gauge({
      name: 'chat_gateway_path_window',
      help: 'How many of those may be on the path now: what drains in twice OVERLOAD_PATH_TARGET_MS, or the window steered while their p90 is slower than it; 16384 while none come back',
      registers,
      collect() {
        const path = pathWindow();
        if (path) this.set(path.limit);
      },
    }),
    presence: new Counter({
      name: 'chat_gateway_presence_total',
      help: 'Presence changes of local users, by change: online/offline (announced), still_online (a last local socket closed, the user has sockets elsewhere), returned (back within the offline grace: nothing announced), reaped (users of a dead gateway checked), error (Redis or dispatch failed)',
      labelNames: ['change'] as const,
      registers,
    }),
    closes: new Counter({
      name: 'chat_gateway_closes_total',
      help: 'Connections closed by the server, by close code',
      labelNames: ['code'] as const,
      registers,
    }),
  };
}
