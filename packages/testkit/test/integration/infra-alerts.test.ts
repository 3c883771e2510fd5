// The Prometheus alert rules (infra/prometheus/alerts.yml): valid for promtool, their unit tests
// (alerts.test.yml) pass under `promtool test rules`, every alert fires in at least one of them, they
// name only metrics that exist, and prometheus.yml and docker-compose.yml load them. That each rule
// evaluates without error over the running system is infra-prometheus.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chatMetricsIn, definedMetrics, REPO, yaml } from './infra-files.js';

const PROMETHEUS = `${REPO}infra/prometheus/`;

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
}
interface RuleTests {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
}

const rules = () =>
  (
    yaml(readFileSync(`${PROMETHEUS}alerts.yml`, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> }
  ).groups.flatMap((g) => g.rules);

/** `promtool <args>` in `cwd`: its exit status and output. */
function promtool(cwd: string, ...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool: ${r.error.message} (apt-get install prometheus)`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('Prometheus alert rules (infra/prometheus/alerts.yml)', () => {
  test('promtool accepts the rules', () => {
    const r = promtool(PROMETHEUS, 'check', 'rules', 'alerts.yml');
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, new RegExp(`SUCCESS: ${rules().length} rules found`));
  });

  test('their unit tests pass under promtool test rules', () => {
    const r = promtool(PROMETHEUS, 'test', 'rules', 'alerts.test.yml');
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS/);
  });

  test('the unit tests notice a changed rule', () => {
    // ChatGatewayDown waiting 10 minutes instead of 1: the case expecting it after 3 minutes fails.
    const dir = mkdtempSync(join(tmpdir(), 'alerts-'));
    try {
      copyFileSync(`${PROMETHEUS}alerts.test.yml`, join(dir, 'alerts.test.yml'));
      const text = readFileSync(`${PROMETHEUS}alerts.yml`, 'utf8');
      const changed = text.replace(/(alert: ChatGatewayDown\n\s+expr: .*\n\s+for: )1m/, '$110m');
      assert.notEqual(changed, text);
      writeFileSync(join(dir, 'alerts.yml'), changed);
      const r = promtool(dir, 'test', 'rules', 'alerts.test.yml');
      assert.notEqual(r.status, 0);
      assert.match(r.output, /alertname: ChatGatewayDown/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every alert fires in at least one unit test case', () => {
    const cases = yaml(readFileSync(`${PROMETHEUS}alerts.test.yml`, 'utf8')) as RuleTests;
    assert.deepEqual(cases.rule_files, ['alerts.yml']);
    const fired = new Set(
      cases.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((a) => (a.exp_alerts ?? []).length > 0).map((a) => a.alertname),
      ),
    );
    const alerts = rules().flatMap((r) => (r.alert ? [r.alert] : []));
    assert.ok(alerts.length >= 10);
    assert.deepEqual(
      alerts.filter((a) => !fired.has(a)),
      [],
      'alerts no test case fires',
    );
  });

  test('they cover what operations watch, with metric names that exist', () => {
    const exprs = rules().map((r) => r.expr);
    for (const needle of [
      'rabbitmq_detailed_queue_messages_ready', // persist queue growing
      'chat_persister_dead_letters_total', // dead letters
      'chat_gateway_send_confirm_seconds_bucket', // confirm latency
      'chat_gateway_dependency_up', // gateway not ready, Redis, MongoDB
      'up{job="rabbitmq"}', // RabbitMQ node down
      'chat_persister_retries_total{stage="store"}', // MongoDB write errors
    ]) {
      assert.ok(
        exprs.some((e) => e.includes(needle)),
        `no rule uses ${needle}`,
      );
    }
    const defined = definedMetrics();
    assert.deepEqual(
      exprs.flatMap((e) => chatMetricsIn(e).filter((m) => !defined.has(m))),
      [],
      'chat_* metrics no service defines',
    );
    // rabbitmq_* names: those the dashboards use, which infra-prometheus.test.ts sees on a live node.
    const dashboards = readFileSync(`${REPO}infra/grafana/queries.json`, 'utf8');
    const rabbit = exprs.flatMap((e) => [...e.matchAll(/\brabbitmq_[a-z_]+/g)].map((m) => m[0]));
    assert.ok(rabbit.length > 0);
    assert.deepEqual(
      rabbit.filter((m) => !dashboards.includes(m)),
      [],
      'rabbitmq_* metrics not seen on a live node',
    );
  });

  test('prometheus.yml loads them and docker-compose.yml mounts them next to it', () => {
    const config = yaml(readFileSync(`${PROMETHEUS}prometheus.yml`, 'utf8')) as { rule_files?: string[] };
    assert.deepEqual(config.rule_files, ['alerts.yml']);
    const compose = readFileSync(`${REPO}docker-compose.yml`, 'utf8');
    assert.match(compose, /- \.\/infra\/prometheus\/prometheus\.yml:\/etc\/prometheus\/prometheus\.yml:ro/);
    assert.match(compose, /- \.\/infra\/prometheus\/alerts\.yml:\/etc\/prometheus\/alerts\.yml:ro/);
  });
});
