// The Grafana dashboards and their machine-readable query list agree (infra/grafana/dashboards/*.json
// vs infra/grafana/queries.json), use the provisioned datasource, name only metrics our services
// define, and cover the seed's panels. No network: files only. That each query returns data from a
// running system is infra-prometheus.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { chatMetricsIn, definedMetrics, REPO } from './infra-files.js';

const GRAFANA = `${REPO}infra/grafana/`;

interface Query {
  dashboard: string;
  panel: string;
  expr: string;
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; datasource?: { type: string; uid: string } }>;
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

function loadDashboards(): Map<string, Dashboard> {
  const out = new Map<string, Dashboard>();
  for (const file of readdirSync(`${GRAFANA}dashboards`)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    out.set(file, JSON.parse(readFileSync(`${GRAFANA}dashboards/${file}`, 'utf8')) as Dashboard);
  }
  return out;
}

function loadQueries(): Query[] {
  return JSON.parse(readFileSync(`${GRAFANA}queries.json`, 'utf8')) as Query[];
}

/** Every non-row panel, including those inside collapsed rows. */
function panelsOf(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

/** What the dashboards query, as queries.json entries. */
function queriesOf(dashboards: Iterable<Dashboard>): Query[] {
  return [...dashboards].flatMap((d) =>
    panelsOf(d).flatMap((p) => (p.targets ?? []).map((t) => ({ dashboard: d.uid, panel: p.title, expr: t.expr }))),
  );
}

/** Entries of `a` not matched one-for-one in `b`. */
function missingFrom(a: readonly Query[], b: readonly Query[]): Query[] {
  const pool = b.map((q) => JSON.stringify([q.dashboard, q.panel, q.expr]));
  return a.filter((q) => {
    const i = pool.indexOf(JSON.stringify([q.dashboard, q.panel, q.expr]));
    if (i < 0) return true;
    pool.splice(i, 1);
    return false;
  });
}

function disagreements(dashboards: Iterable<Dashboard>, queries: readonly Query[]): string[] {
  const inDashboards = queriesOf(dashboards);
  return [
    ...missingFrom(inDashboards, queries).map((q) => `not in queries.json: ${q.dashboard} / ${q.panel}: ${q.expr}`),
    ...missingFrom(queries, inDashboards).map((q) => `not in a dashboard: ${q.dashboard} / ${q.panel}: ${q.expr}`),
  ];
}

describe('Grafana dashboards and infra/grafana/queries.json', () => {
  test('every panel query of every dashboard is listed in queries.json, and nothing else is', () => {
    const dashboards = loadDashboards();
    assert.ok(dashboards.size >= 2, 'the overview and the RabbitMQ dashboards');
    assert.deepEqual(disagreements(dashboards.values(), loadQueries()), []);
  });

  test('the comparison notices a changed, a removed and an added query', () => {
    const dashboards = [...loadDashboards().values()];
    const queries = loadQueries();
    const changed = queries.map((q, i) => (i === 0 ? { ...q, expr: `${q.expr} * 2` } : q));
    assert.equal(disagreements(dashboards, changed).length, 2);
    assert.equal(disagreements(dashboards, queries.slice(1)).length, 1);
    assert.equal(disagreements(dashboards, [...queries, { ...queries[0]!, panel: 'elsewhere' }]).length, 1);
  });

  test('dashboards are named by their uid, have unique panel titles and query the provisioned datasource', () => {
    const provisioned = readFileSync(`${GRAFANA}provisioning/datasources/prometheus.yml`, 'utf8');
    const uid = /^\s+uid:\s*(\S+)\s*$/m.exec(provisioned)?.[1];
    assert.ok(uid, 'the datasource has a uid');
    const uids = new Set<string>();
    for (const [file, d] of loadDashboards()) {
      assert.equal(file, `${d.uid}.json`);
      assert.ok(!uids.has(d.uid), `duplicate uid ${d.uid}`);
      uids.add(d.uid);
      const titles = panelsOf(d).map((p) => p.title);
      assert.equal(new Set(titles).size, titles.length, `${d.uid}: duplicate panel titles`);
      for (const p of panelsOf(d)) {
        assert.ok((p.targets ?? []).length > 0, `${d.uid} / ${p.title}: no query`);
        assert.equal(p.datasource?.uid, uid, `${d.uid} / ${p.title}: panel datasource`);
        for (const t of p.targets ?? [])
          assert.equal(t.datasource?.uid, uid, `${d.uid} / ${p.title}: target datasource`);
      }
    }
    const compose = readFileSync(`${REPO}docker-compose.yml`, 'utf8');
    const home = /GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH:\s*\/etc\/grafana\/dashboards\/(\S+)/.exec(compose)?.[1];
    assert.ok(home && loadDashboards().has(home), `Grafana's home dashboard ${home} exists`);
  });

  test('every chat_* metric a query uses is defined by the gateway, the persister or the router', () => {
    const defined = definedMetrics();
    assert.ok(defined.has('chat_router_bindings') && defined.has('chat_gateway_connections'));
    const unknown = loadQueries().flatMap((q) =>
      chatMetricsIn(q.expr)
        .filter((m) => !defined.has(m))
        .map((m) => `${q.dashboard} / ${q.panel}: ${m}`),
    );
    assert.deepEqual(unknown, []);
  });

  test("the seed's panels and the broker's health are there", () => {
    const exprs = loadQueries().map((q) => q.expr);
    const uses = (needle: string | RegExp) =>
      exprs.some((e) => (typeof needle === 'string' ? e.includes(needle) : needle.test(e)));
    for (const needle of [
      /chat_gateway_requests_total\{method="message\.create",outcome="ok"\}/,
      'chat_persister_stored_total',
      'chat_gateway_deliveries_total',
      'chat_persister_queue_depth',
      'chat_persister_insert_seconds_bucket',
      'chat_persister_dispatch_seconds_bucket',
      'chat_persister_loop_seconds_bucket',
      'rate(chat_persister_busy_seconds_total',
      'chat_gateway_connections',
      'chat_router_bindings',
      'chat_router_binding_operations_total',
      'chat_router_confirm_seconds_bucket',
      'chat_gateway_send_confirm_seconds_bucket',
      'chat_gateway_end_to_end_seconds_bucket',
      'rate(chat_persister_stored_total[1m])), 0.01)',
      'chat_persister_redeliveries_total',
      'chat_persister_dead_letters_total',
      'chat_gateway_slow_consumer_closes_total',
      'chat_gateway_rate_limited_total',
      'rabbitmq_queue_messages_ready',
      'rabbitmq_connections',
    ]) {
      assert.ok(uses(needle), `no panel queries ${needle}`);
    }
  });

  test('the dashboards and queries.json are what infra/grafana/generate.mjs produces', () => {
    const out = execFileSync(process.execPath, [`${GRAFANA}generate.mjs`, '--check'], { encoding: 'utf8' });
    assert.match(out, /up to date/);
  });
});
