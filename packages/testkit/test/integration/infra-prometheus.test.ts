// The observability that docker-compose.yml ships, checked end to end without Docker: the real
// Prometheus (Debian) runs infra/prometheus/prometheus.yml rendered for local ports and scrapes
// real gateways and a persister (spawned as in production by the gateway's e2e harness) and a
// RabbitMQ node booted with the shipped rabbitmq.conf, enabled_plugins (rabbitmq_prometheus) and
// definitions.json, which the system uses as its broker. After a few hundred messages, every query
// of every dashboard panel (infra/grafana/queries.json) must return data.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type ChatClient, createClient } from '@chat/client';
import { SnowflakeGenerator } from '@chat/router';
import {
  freePort,
  type Prometheus,
  prometheusJobs,
  type RabbitNode,
  renderPrometheusConfig,
  startPrometheus,
  startRabbitNode,
  useAmqpLeakCheck,
} from '@chat/testkit';
import amqp from 'amqplib';

useAmqpLeakCheck();

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const RABBIT_INFRA = `${REPO}infra/rabbitmq/`;

/**
 * The part of the gateway's end-to-end harness (packages/gateway/test/e2e/stack.ts) used here. It
 * is loaded at run time: the file belongs to another package's tests, outside this project's rootDir.
 */
interface Stack {
  prefix: string;
  gateways: Array<{ port: number; url: string; serverId: string }>;
  close(): Promise<void>;
}
type StartStack = (o: {
  gateways?: number;
  gatewayEnv?: Record<string, string>;
  persisterEnv?: Record<string, string>;
}) => Promise<Stack>;

/** The shipped rabbitmq.conf for a testkit node (see infra-rabbitmq.test.ts): per-node lines and docker peers go. */
function shippedRabbitConfig(): string {
  return readFileSync(`${RABBIT_INFRA}rabbitmq.conf`, 'utf8')
    .split('\n')
    .filter(
      (line) =>
        !/^(listeners\.|management\.tcp\.|prometheus\.tcp\.|log\.|cluster_formation\.classic_config\.nodes\.)/.test(
          line,
        ),
    )
    .map((line) => line.replace(/^load_definitions\s*=.*$/, `load_definitions = ${RABBIT_INFRA}definitions.json`))
    .join('\n');
}

function shippedPlugins(): string[] {
  const text = readFileSync(`${RABBIT_INFRA}enabled_plugins`, 'utf8').trim();
  return text
    .replace(/^\[|\]\.$/g, '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

const queries = JSON.parse(readFileSync(`${REPO}infra/grafana/queries.json`, 'utf8')) as Array<{
  dashboard: string;
  panel: string;
  expr: string;
}>;

const USERS = 10;
const MESSAGES_EACH = 30;

describe('Prometheus with the shipped scrape configuration, over the running system', () => {
  let node: RabbitNode | undefined;
  let stack: Stack | undefined;
  let prometheus: Prometheus | undefined;
  const clients: ChatClient[] = [];
  const savedAmqpUrl = process.env.AMQP_URL;
  let brokerUrl = '';

  before(
    async () => {
      node = await startRabbitNode({ extraConfig: shippedRabbitConfig(), enabledPlugins: shippedPlugins() });
      // A node that imports definitions at boot has no guest, and the definitions hold no account
      // (init.sh creates them from passwords in the environment): one account for the whole stack.
      await node.rabbitmqctl(0, 'add_user', 'stack', 'stack-password');
      await node.rabbitmqctl(0, 'set_permissions', '-p', '/', 'stack', '.*', '.*', '.*');
      brokerUrl = node.url.replace('guest:guest@', 'stack:stack-password@');
      process.env.AMQP_URL = brokerUrl; // read by the harness (amqpUrl()) for every process it starts
      const { startStack } = (await import(new URL('../../../gateway/test/e2e/stack.ts', import.meta.url).href)) as {
        startStack: StartStack;
      };
      const persisterPort = await freePort();
      stack = await startStack({
        gateways: 2,
        // Room for the load below in each connection's frame budget; the hammer still exceeds it.
        gatewayEnv: { RATE_BURST: '100', RATE_FRAMES: '6000' },
        persisterEnv: { PERSISTER_HTTP_PORT: String(persisterPort) },
      });
      const prometheusPort = await freePort();
      const rabbit = [`127.0.0.1:${node.prometheusPorts[0]}`];
      const config = renderPrometheusConfig({
        scrapeInterval: '1s',
        targets: {
          prometheus: [`127.0.0.1:${prometheusPort}`],
          gateway: stack.gateways.map((g) => `127.0.0.1:${g.port}`),
          persister: [`127.0.0.1:${persisterPort}`],
          rabbitmq: rabbit,
          'rabbitmq-queues': rabbit,
        },
      });
      prometheus = await startPrometheus({ config, port: prometheusPort });
    },
    { timeout: 180_000 },
  );

  after(async () => {
    try {
      await Promise.allSettled(clients.map((c) => c.close()));
      await prometheus?.stop();
      await stack?.close();
    } finally {
      await node?.stop();
      if (savedAmqpUrl === undefined) delete process.env.AMQP_URL;
      else process.env.AMQP_URL = savedAmqpUrl;
    }
  });

  test('scrapes every job of the shipped file, every target up', async () => {
    const jobs = prometheusJobs();
    let last: Awaited<ReturnType<Prometheus['targets']>> = [];
    await waitUntil('every target up', 30_000, async () => {
      last = await prometheus!.targets();
      return jobs.every((j) => last.some((t) => t.job === j)) && last.every((t) => t.health === 'up');
    }).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(last, null, 2)}`);
    });
    assert.deepEqual([...new Set(last.map((t) => t.job))].sort(), [...jobs].sort());
    assert.equal(last.filter((t) => t.job === 'gateway').length, 2);
  });

  test(`after ${USERS * MESSAGES_EACH} messages, every dashboard query returns data`, {
    timeout: 240_000,
  }, async () => {
    const s = stack!;
    // Users on both gateways, all in the default group: every message reaches every socket.
    for (let i = 0; i < USERS; i++) {
      const gateway = s.gateways[i % s.gateways.length]!;
      const client = createClient({ baseUrl: gateway.url, requestTimeoutMs: 20_000 });
      clients.push(client);
      await client.register(`load${i}`, 'correct horse battery');
      await client.login(`load${i}`, 'correct horse battery');
    }
    let received = 0;
    const ready = await Promise.all(
      clients.map(async (c) => {
        c.on('messageCreate', () => {
          received += 1;
        });
        return c.connect();
      }),
    );
    const channel = ready[0]!.channels.find((c) => c.name === 'official') ?? ready[0]!.channels[0]!;
    const sent = await Promise.all(
      clients.map(async (c, i) => {
        const mine = [];
        for (let m = 0; m < MESSAGES_EACH; m++) mine.push(await c.send(channel.id, `load ${i}/${m}`));
        return mine;
      }),
    );
    const total = USERS * MESSAGES_EACH;
    await waitUntil('every socket received every message', 60_000, () => received >= total * (USERS - 1));
    // An edit, a delete and typing: the other write types and the ephemeral path.
    const first = sent[0]![0]!;
    await clients[0]!.edit(channel.id, first.id, 'load edited');
    await clients[0]!.delete(channel.id, sent[0]![1]!.id);
    await Promise.all(clients.map((c) => c.typing(channel.id)));

    // A rate-limit hit: one connection bursts past its frame budget (RATE_BURST) and is closed.
    const hammer = createClient({
      baseUrl: s.gateways[0]!.url,
      reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    clients.push(hammer);
    await hammer.register('hammer', 'correct horse battery');
    await hammer.login('hammer', 'correct horse battery');
    await hammer.connect();
    await Promise.allSettled(Array.from({ length: 150 }, () => hammer.typing(channel.id, { timeoutMs: 5000 })));

    // A poison write: valid JSON, content over the limit, so the persister dead-letters it with a reason
    // (published as the stack's own account: writes from anyone else never reach the persister).
    const connection = await amqp.connect(brokerUrl);
    try {
      const ch = await connection.createConfirmChannel();
      const poison = {
        v: 1,
        type: 'message.create',
        id: await new SnowflakeGenerator({ workerId: 1023 }).next(),
        channel_id: channel.id,
        author: { id: '1', username: 'poison' },
        content: 'x'.repeat(5000),
        nonce: null,
        timestamp: new Date().toISOString(),
      };
      ch.sendToQueue(`${s.prefix}.persist`, Buffer.from(JSON.stringify(poison)), { persistent: true, userId: 'stack' });
      await ch.waitForConfirms();
      await ch.close();
    } finally {
      await connection.close();
    }

    // Prometheus needs a few 1 s scrapes of the new series; then every panel query must have data.
    let empty: typeof queries = [];
    const failures = new Map<string, string>();
    await waitUntil('every query to return data', 60_000, async () => {
      empty = [];
      for (const q of queries) {
        try {
          if ((await prometheus!.query(q.expr)).length === 0) empty.push(q);
        } catch (error) {
          failures.set(q.expr, (error as Error).message);
          empty.push(q);
        }
      }
      return empty.length === 0;
    }).catch(() => {});
    assert.deepEqual(
      empty.map(
        (q) => `${q.dashboard} / ${q.panel}: ${q.expr}${failures.has(q.expr) ? ` (${failures.get(q.expr)})` : ''}`,
      ),
      [],
      'queries without data',
    );

    // The figures mean what the panels say.
    const value = async (expr: string) => Number((await prometheus!.query(expr))[0]?.value[1] ?? Number.NaN);
    await waitUntil('the counters to reach the load', 20_000, async () => {
      return (
        (await value('sum(chat_gateway_requests_total{method="message.create",outcome="ok"})')) >= total &&
        (await value('sum(chat_persister_stored_total{type="message.create"})')) >= total &&
        (await value('sum(chat_gateway_deliveries_total)')) >= total * (USERS - 1)
      );
    });
    assert.ok(
      (await value('sum(chat_gateway_rate_limited_total{scope="connection"})')) >= 1,
      'the hammer was rate limited',
    );
    assert.ok(
      (await value('sum(chat_persister_dead_letters_total{reason="content_too_long"})')) >= 1,
      'the poison was dead-lettered',
    );
    assert.equal(await value('sum(up)'), prometheusJobs().length + 1, 'every target up (two gateways)');
    assert.ok((await value('sum(chat_gateway_end_to_end_seconds_count)')) >= total, 'end-to-end latency observed');
    assert.equal(await value('min(chat_gateway_dependency_up)'), 1, 'every gateway dependency up');
  });

  test('loads every alert rule of alerts.yml (rule_files) and evaluates each without error', async () => {
    const shipped = [
      ...readFileSync(`${REPO}infra/prometheus/alerts.yml`, 'utf8').matchAll(/^\s+- alert: (\S+)/gm),
    ].map((m) => m[1]!);
    let rules: Awaited<ReturnType<Prometheus['rules']>> = [];
    await waitUntil('every rule evaluated', 30_000, async () => {
      rules = await prometheus!.rules();
      return rules.length > 0 && rules.every((r) => r.health !== 'unknown');
    });
    assert.deepEqual(rules.map((r) => r.name).sort(), [...shipped].sort());
    assert.deepEqual(
      rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`),
      [],
    );
    // Over the healthy system above (one node, gateways ready), none of the availability alerts is active.
    // (ChatPersistQueueNoConsumer is: the node's definitions declare chat.persist, which nothing consumes
    // here — the stack runs under its own prefix.)
    const active = rules.filter((r) => r.state !== 'inactive').map((r) => r.name);
    for (const name of ['ChatGatewayNotReady', 'ChatGatewayDown', 'ChatPersisterDown', 'RabbitMQNodeDown']) {
      assert.ok(!active.includes(name), `${name} is ${rules.find((r) => r.name === name)?.state}`);
    }
  });
});
