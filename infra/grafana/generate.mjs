#!/usr/bin/env node
// Writes the Grafana dashboards (infra/grafana/dashboards/*.json) and the list of their queries
// (infra/grafana/queries.json) from the panel definitions below: one source, two outputs that
// cannot drift. `node infra/grafana/generate.mjs` rewrites them; `--check` only compares and
// exits 1 on a difference. Edited a dashboard in Grafana? Port the change here and regenerate;
// the test packages/testkit/test/integration/infra-dashboards.test.ts fails while the dashboard
// JSON and queries.json disagree, and infra-prometheus.test.ts runs every query against a live
// system.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const DIR = fileURLToPath(new URL('.', import.meta.url));
const DATASOURCE = { type: 'prometheus', uid: 'prometheus' };

/** A panel: its queries are [legend, expr] pairs. */
const panel = (title, unit, description, queries, type = 'timeseries') => ({ title, unit, description, queries, type });
const row = (title) => ({ row: title });

const hq = (q, metric, by = '') =>
  `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${metric}_bucket[1m])))`;

const OVERVIEW = {
  uid: 'chat-overview',
  title: 'Chat fabric — overview',
  description: 'The chat backend: throughput, lag, persister processing, gateways, routing. docs/design.md §7.',
  panels: [
    row('Throughput and lag'),
    panel(
      'Input vs output: accepted, stored, delivered (per second)',
      'ops',
      'accepted: message.create answered ok over WebSocket (after the broker confirmed the durable write); stored: creates written to MongoDB by the persisters; delivered: DISPATCH frames sent to sockets (fan-out, so larger). Accepted above stored for long = the persisters fall behind (see lag).',
      [
        ['accepted', 'sum(rate(chat_gateway_requests_total{method="message.create",outcome="ok"}[1m]))'],
        ['stored', 'sum(rate(chat_persister_stored_total{type="message.create"}[1m]))'],
        ['delivered', 'sum(rate(chat_gateway_deliveries_total[1m]))'],
      ],
    ),
    panel(
      'Lag: messages waiting in the persist queue',
      'short',
      'Ready messages in <prefix>.persist, as the persisters read it at scrape time and as the broker reports it. Growing = accepted faster than stored.',
      [
        ['persister view', 'max(chat_persister_queue_depth)'],
        ['broker view {{queue}}', 'sum by (queue) (rabbitmq_detailed_queue_messages_ready{queue=~".+\\\\.persist"})'],
      ],
    ),
    panel(
      'Stored per second by type',
      'ops',
      'Durable writes stored and dispatched, by type (message.create, message.update, message.delete).',
      [['{{type}}', 'sum by (type) (rate(chat_persister_stored_total[1m]))']],
    ),
    panel(
      'End-to-end latency: durable write published → dispatch at the gateway',
      's',
      'message.create, from the gateway publishing the durable write (the time in the message id) to its MESSAGE_CREATE dispatch reaching a gateway that holds a recipient: persist queue wait + MongoDB insert + dispatch + routing. Grows with the persister lag. Across machines it includes their clock difference (keep NTP on).',
      [
        ['p50', hq(0.5, 'chat_gateway_end_to_end_seconds')],
        ['p90', hq(0.9, 'chat_gateway_end_to_end_seconds')],
        ['p99', hq(0.99, 'chat_gateway_end_to_end_seconds')],
        ['p99 {{instance}}', hq(0.99, 'chat_gateway_end_to_end_seconds', 'instance')],
      ],
    ),
    panel(
      'Persister lag in seconds',
      's',
      'How long the writes waiting in the persist queue take to store at the current store rate (ready messages ÷ writes stored per second over 1 min), as the persisters and as the broker count the backlog. With no persister storing, the broker view shows the backlog × 100 s. 0 = no backlog.',
      [
        [
          'persister view',
          'max(chat_persister_queue_depth) / clamp_min(sum(rate(chat_persister_stored_total[1m])), 0.01)',
        ],
        [
          'broker view {{queue}}',
          'sum by (queue) (rabbitmq_detailed_queue_messages_ready{queue=~".+\\\\.persist"}) / on() group_left() clamp_min(sum(rate(chat_persister_stored_total[1m])) or vector(0), 0.01)',
        ],
      ],
    ),
    row('Persister'),
    panel(
      'Processing breakdown (p50 / p99)',
      's',
      'Per batch: MongoDB insert, dispatch to the route exchanges until confirmed; per write: the whole loop delivered → stored → dispatched → acked.',
      [
        ['insert p50', hq(0.5, 'chat_persister_insert_seconds')],
        ['insert p99', hq(0.99, 'chat_persister_insert_seconds')],
        ['dispatch p50', hq(0.5, 'chat_persister_dispatch_seconds')],
        ['dispatch p99', hq(0.99, 'chat_persister_dispatch_seconds')],
        ['whole loop p50', hq(0.5, 'chat_persister_loop_seconds')],
        ['whole loop p99', hq(0.99, 'chat_persister_loop_seconds')],
      ],
    ),
    panel(
      'Work-time density (busy seconds per second)',
      'short',
      'Seconds spent processing batches per second, summed over concurrent batches. Above the number of cores of a persister = it is saturated; near 0 with lag growing = it is waiting on something (MongoDB, the broker).',
      [['{{instance}}', 'sum by (instance) (rate(chat_persister_busy_seconds_total[1m]))']],
    ),
    panel('Batch size', 'short', 'Writes per flushed batch (PERSISTER_BATCH_SIZE caps it).', [
      ['p50', hq(0.5, 'chat_persister_batch_size')],
      ['mean', 'sum(rate(chat_persister_batch_size_sum[1m])) / sum(rate(chat_persister_batch_size_count[1m]))'],
    ]),
    panel('Writes in flight', 'short', 'Received and not yet acked, per persister (PERSISTER_PREFETCH caps it).', [
      ['{{instance}}', 'sum by (instance) (chat_persister_in_flight)'],
    ]),
    panel(
      'Redeliveries, duplicates and dead letters',
      'short',
      'Redeliveries and duplicates follow a persister or broker failure (idempotent by id). Dead letters are writes that can never be stored, by reason; they wait in <prefix>.persist.dead.',
      [
        ['redelivered /s', 'sum(rate(chat_persister_redeliveries_total[1m]))'],
        ['duplicates /s', 'sum(rate(chat_persister_duplicates_total[1m]))'],
        ['dead-lettered /s {{reason}}', 'sum by (reason) (rate(chat_persister_dead_letters_total[5m]))'],
        [
          'in dead-letter queue {{queue}}',
          'sum by (queue) (rabbitmq_detailed_queue_messages{queue=~".+\\\\.persist\\\\.dead"})',
        ],
      ],
    ),
    row('Gateways'),
    panel('Connections per gateway', 'short', 'Open WebSocket connections.', [
      ['{{instance}}', 'sum by (instance) (chat_gateway_connections)'],
      ['total', 'sum(chat_gateway_connections)'],
    ]),
    panel(
      'IDENTIFY and RESUME',
      'ops',
      'Session starts by kind and outcome; a RESUME wave follows a gateway restart.',
      [['{{kind}} {{outcome}}', 'sum by (kind, outcome) (rate(chat_gateway_identifies_total[1m]))']],
    ),
    panel('Request latency p99 by method', 's', 'WebSocket requests, from frame to RESPONSE.', [
      ['{{method}}', hq(0.99, 'chat_gateway_request_seconds', 'method')],
    ]),
    panel(
      'Slow-consumer closes and rate-limit hits (5 min)',
      'short',
      'Sockets closed with 4008 for staying over MAX_BACKPRESSURE_BYTES; rate-limit hits by scope (connection frame budget, user across gateways, unauthenticated HTTP); ephemeral events skipped for sockets over their limit.',
      [
        ['slow-consumer closes', 'sum(increase(chat_gateway_slow_consumer_closes_total[5m]))'],
        ['rate limited {{scope}}', 'sum by (scope) (increase(chat_gateway_rate_limited_total[5m]))'],
        ['ephemeral skipped', 'sum(increase(chat_gateway_skipped_ephemeral_total[5m]))'],
      ],
    ),
    panel(
      'Server-side closes by code',
      'ops',
      'Connections the gateways closed (4008 slow/rate, 4009 timeout, 1001 drain, …) and those closed for bad input.',
      [
        ['closed {{code}}', 'sum by (code) (rate(chat_gateway_closes_total[1m]))'],
        ['bad input {{code}}', 'sum by (code) (rate(chat_gateway_rejected_frames_total[1m]))'],
      ],
    ),
    panel('HTTP API by route and status', 'ops', 'docs/protocol.md §6 requests.', [
      ['{{route}} {{status}}', 'sum by (route, status) (rate(chat_gateway_http_requests_total[1m]))'],
    ]),
    row('Routing fabric'),
    panel(
      'Bindings per gateway',
      'short',
      'Keys (slots) bound on each gateway queue, and the references (attached users) behind them. With slot granularity bindings stay near S / gateways whatever the number of users.',
      [
        ['bindings {{instance}}', 'sum by (instance) (chat_router_bindings{job="gateway"})'],
        ['attachments {{instance}}', 'sum by (instance) (chat_router_attachments{job="gateway"})'],
      ],
    ),
    panel(
      'Binding operations',
      'ops',
      'bind/unbind per second by outcome: cluster-wide metadata writes (a 3-node cluster does ~200–270/s, docs/design.md §3). A storm here = users churning across slots or a gateway restart. Holds: mass disconnects after which a gateway kept its released keys bound (MASS_DISCONNECT_HOLD_MS), per minute.',
      [
        ['{{op}} {{outcome}}', 'sum by (op, outcome) (rate(chat_router_binding_operations_total[1m]))'],
        ['holds {{instance}} (per minute)', 'sum by (instance) (increase(chat_router_binding_holds_total[1m]))'],
      ],
    ),
    panel(
      'Confirm latency (p50 / p99)',
      's',
      'Broker confirms of router publishes by kind, and of the gateway durable write behind every message.create.',
      [
        ['router p50 {{kind}}', hq(0.5, 'chat_router_confirm_seconds', 'kind')],
        ['router p99 {{kind}}', hq(0.99, 'chat_router_confirm_seconds', 'kind')],
        ['gateway send p50', hq(0.5, 'chat_gateway_send_confirm_seconds')],
        ['gateway send p99', hq(0.99, 'chat_gateway_send_confirm_seconds')],
      ],
    ),
    panel('Publishes by kind and outcome', 'ops', 'Durable writes and dispatches published by every router.', [
      ['{{kind}} {{outcome}}', 'sum by (kind, outcome) (rate(chat_router_publishes_total[1m]))'],
    ]),
    panel('Envelopes consumed by gateways', 'ops', 'By whether any local socket wanted them (audience).', [
      ['{{audience}}', 'sum by (audience) (rate(chat_gateway_envelopes_total[1m]))'],
    ]),
    panel(
      'Broker connection',
      'short',
      '1 = connected with topology, bindings and consumers restored; reconnects in the last 5 minutes.',
      [
        ['ready {{job}} {{instance}}', 'min by (job, instance) (chat_router_ready)'],
        ['reconnects {{job}}', 'sum by (job) (increase(chat_router_reconnects_total[5m]))'],
      ],
    ),
    row('Processes'),
    panel('Event loop lag p99', 's', 'Above ~50 ms a gateway delays every socket it holds.', [
      ['{{job}} {{instance}}', 'max by (job, instance) (nodejs_eventloop_lag_p99_seconds{job=~"gateway|persister"})'],
    ]),
    panel('CPU', 'percentunit', 'CPU seconds per second per process (1 = one core).', [
      [
        '{{job}} {{instance}}',
        'sum by (job, instance) (rate(process_cpu_seconds_total{job=~"gateway|persister"}[1m]))',
      ],
    ]),
    panel('Resident memory', 'bytes', '', [
      ['{{job}} {{instance}}', 'sum by (job, instance) (process_resident_memory_bytes{job=~"gateway|persister"})'],
    ]),
    panel('Scrape targets up', 'short', 'Targets Prometheus reaches, per job.', [['{{job}}', 'sum by (job) (up)']]),
  ],
};

const RABBITMQ = {
  uid: 'chat-rabbitmq',
  title: 'Chat fabric — RabbitMQ',
  description:
    'Broker-side figures from the rabbitmq_prometheus plugin (jobs rabbitmq and rabbitmq-queues). Grafana dashboards 10991 and 11340 are the reference panels.',
  panels: [
    row('Cluster'),
    panel('Nodes up', 'short', 'RabbitMQ nodes Prometheus scrapes successfully.', [['up', 'sum(up{job="rabbitmq"})']]),
    panel('Memory used vs limit', 'bytes', 'Past the limit (vm_memory_high_watermark) the node blocks publishers.', [
      ['used {{instance}}', 'sum by (instance) (rabbitmq_process_resident_memory_bytes)'],
      ['limit {{instance}}', 'sum by (instance) (rabbitmq_resident_memory_limit_bytes)'],
    ]),
    panel('Disk free vs limit', 'bytes', 'Below the limit (disk_free_limit) the node blocks publishers.', [
      ['free {{instance}}', 'sum by (instance) (rabbitmq_disk_space_available_bytes)'],
      ['limit {{instance}}', 'sum by (instance) (rabbitmq_disk_space_available_limit_bytes)'],
    ]),
    panel('Resource alarms', 'short', '1 = alarm in effect: publishers are blocked.', [
      ['memory {{instance}}', 'sum by (instance) (rabbitmq_alarms_memory_used_watermark)'],
      ['disk {{instance}}', 'sum by (instance) (rabbitmq_alarms_free_disk_space_watermark)'],
      ['file descriptors {{instance}}', 'sum by (instance) (rabbitmq_alarms_file_descriptor_limit)'],
    ]),
    panel('File descriptors', 'short', '', [
      ['open {{instance}}', 'sum by (instance) (rabbitmq_process_open_fds)'],
      ['max {{instance}}', 'sum by (instance) (rabbitmq_process_max_fds)'],
    ]),
    panel('Erlang processes', 'short', '', [['{{instance}}', 'sum by (instance) (rabbitmq_erlang_processes_used)']]),
    row('Queues'),
    panel('Messages ready and unacked, per node (all queues)', 'short', '', [
      ['ready {{instance}}', 'sum by (instance) (rabbitmq_queue_messages_ready)'],
      ['unacked {{instance}}', 'sum by (instance) (rabbitmq_queue_messages_unacked)'],
    ]),
    panel(
      'Persist and dead-letter queues',
      'short',
      'Ready and unacked messages of <prefix>.persist and <prefix>.persist.dead.',
      [
        [
          'ready {{queue}}',
          'sum by (queue) (rabbitmq_detailed_queue_messages_ready{queue=~".+\\\\.persist(\\\\.dead)?"})',
        ],
        [
          'unacked {{queue}}',
          'sum by (queue) (rabbitmq_detailed_queue_messages_unacked{queue=~".+\\\\.persist(\\\\.dead)?"})',
        ],
      ],
    ),
    panel(
      'Gateway queue backlog',
      'short',
      'Messages in all <prefix>.gw.<server> queues: near 0 unless a gateway is slow or gone (its queue expires after 60 s unused).',
      [['backlog', 'sum(rabbitmq_detailed_queue_messages{queue=~".+\\\\.gw\\\\..+"})']],
    ),
    panel('Consumers on the persist queue', 'short', 'One per persister channel; 0 = nothing is storing messages.', [
      ['{{queue}}', 'sum by (queue) (rabbitmq_detailed_queue_consumers{queue=~".+\\\\.persist"})'],
    ]),
    panel('Queues per node', 'short', '', [['{{instance}}', 'sum by (instance) (rabbitmq_queues)']]),
    panel('Raft entries committed per second', 'ops', 'Quorum queue (persist) write activity per node.', [
      ['{{instance}}', 'sum by (instance) (rate(rabbitmq_raft_log_commit_index[1m]))'],
    ]),
    row('Traffic'),
    panel('Messages received, routed, delivered, acknowledged, confirmed', 'ops', '', [
      ['received', 'sum(rate(rabbitmq_global_messages_received_total[1m]))'],
      ['routed', 'sum(rate(rabbitmq_global_messages_routed_total[1m]))'],
      ['delivered', 'sum(rate(rabbitmq_global_messages_delivered_total[1m]))'],
      ['acknowledged', 'sum(rate(rabbitmq_global_messages_acknowledged_total[1m]))'],
      ['confirmed', 'sum(rate(rabbitmq_global_messages_confirmed_total[1m]))'],
    ]),
    panel(
      'Unroutable, redelivered, dead-lettered',
      'ops',
      'Unroutable dispatches are normal (no gateway holds the slot); dead-lettered by delivery limit = a write failed PERSIST_DELIVERY_LIMIT times.',
      [
        ['unroutable dropped', 'sum(rate(rabbitmq_global_messages_unroutable_dropped_total[1m]))'],
        ['redelivered', 'sum(rate(rabbitmq_global_messages_redelivered_total[1m]))'],
        [
          'dead-lettered (delivery limit)',
          'sum(rate(rabbitmq_global_messages_dead_lettered_delivery_limit_total[5m]))',
        ],
        ['dead-lettered (rejected)', 'sum(rate(rabbitmq_global_messages_dead_lettered_rejected_total[5m]))'],
      ],
    ),
    panel('Connections and channels per node', 'short', '', [
      ['connections {{instance}}', 'sum by (instance) (rabbitmq_connections)'],
      ['channels {{instance}}', 'sum by (instance) (rabbitmq_channels)'],
    ]),
    panel('Connections opened and closed', 'ops', 'A steady churn means clients reconnecting.', [
      ['opened', 'sum(rate(rabbitmq_connections_opened_total[1m]))'],
      ['closed', 'sum(rate(rabbitmq_connections_closed_total[1m]))'],
    ]),
  ],
};

/** Grafana dashboard JSON (schemaVersion 39) with rows and a 2-column grid of time series. */
function dashboard(d) {
  const panels = [];
  let id = 1;
  let y = 0;
  let x = 0;
  for (const p of d.panels) {
    if (p.row) {
      if (x !== 0) y += 8;
      x = 0;
      panels.push({
        type: 'row',
        id: id++,
        title: p.row,
        collapsed: false,
        gridPos: { h: 1, w: 24, x: 0, y },
        panels: [],
      });
      y += 1;
      continue;
    }
    panels.push({
      type: p.type,
      id: id++,
      title: p.title,
      description: p.description,
      datasource: DATASOURCE,
      gridPos: { h: 8, w: 12, x, y },
      fieldConfig: {
        defaults: {
          unit: p.unit,
          custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: true },
        },
        overrides: [],
      },
      options: {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
      targets: p.queries.map(([legendFormat, expr], i) => ({
        refId: String.fromCharCode(65 + i),
        datasource: DATASOURCE,
        expr,
        legendFormat,
        range: true,
      })),
    });
    if (x === 0) x = 12;
    else {
      x = 0;
      y += 8;
    }
  }
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['chat'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    refresh: '10s',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-30m', to: 'now' },
    templating: { list: [] },
    annotations: { list: [] },
    links: [],
    panels,
  };
}

const outputs = new Map();
const queries = [];
for (const d of [OVERVIEW, RABBITMQ]) {
  const json = dashboard(d);
  outputs.set(`dashboards/${d.uid}.json`, `${JSON.stringify(json, null, 2)}\n`);
  for (const p of json.panels) {
    for (const t of p.targets ?? []) queries.push({ dashboard: d.uid, panel: p.title, expr: t.expr });
  }
}
outputs.set('queries.json', `${JSON.stringify(queries, null, 2)}\n`);

const check = process.argv.includes('--check');
let stale = 0;
for (const [file, text] of outputs) {
  const path = `${DIR}${file}`;
  let current;
  try {
    current = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    // missing or not JSON: stale
  }
  // Compared as data, not text: the files are formatted by biome after writing.
  if (isDeepStrictEqual(current, JSON.parse(text))) continue;
  stale += 1;
  if (check) process.stderr.write(`infra/grafana/${file} is not what generate.mjs produces\n`);
  else writeFileSync(path, text);
}
if (check && stale > 0) process.exit(1);
process.stdout.write(
  check
    ? `infra/grafana: ${outputs.size} files up to date (${queries.length} queries)\n`
    : `infra/grafana: ${stale} of ${outputs.size} files written (${queries.length} queries); now run npx biome format --write infra/grafana\n`,
);
