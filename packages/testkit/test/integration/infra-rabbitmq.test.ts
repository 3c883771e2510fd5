// The RabbitMQ configuration that docker-compose.yml ships (infra/rabbitmq: rabbitmq.conf,
// enabled_plugins, definitions.json, init.sh) on real nodes: a 3-node cluster of the Debian
// RabbitMQ 3.10 booted with those very files, then the cluster set-up script, then the router's own
// idempotent declaration against the imported topology. Docker itself is not needed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  createRouter,
  DeadLetterQueue,
  type DurableDelivery,
  deadLetterId,
  SnowflakeGenerator,
  topologyNames,
} from '@chat/router';
import { type RabbitCluster, startRabbitCluster, useAmqpLeakCheck } from '@chat/testkit';
import amqp from 'amqplib';

useAmqpLeakCheck();

const INFRA = fileURLToPath(new URL('../../../../infra/rabbitmq/', import.meta.url));
const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';
const run = promisify(execFile);

/**
 * The shipped rabbitmq.conf for testkit nodes: the lines testkit sets per node (listeners, log
 * files) and the docker host names of the peer list go; load_definitions points at the repository.
 */
function shippedRabbitConfig(): string {
  return readFileSync(`${INFRA}rabbitmq.conf`, 'utf8')
    .split('\n')
    .filter(
      (line) =>
        !/^(listeners\.|management\.tcp\.|prometheus\.tcp\.|log\.|cluster_formation\.classic_config\.nodes\.)/.test(
          line,
        ),
    )
    .map((line) => line.replace(/^load_definitions\s*=.*$/, `load_definitions = ${INFRA}definitions.json`))
    .join('\n');
}

function shippedPlugins(): string[] {
  const text = readFileSync(`${INFRA}enabled_plugins`, 'utf8').trim();
  const match = /^\[([a-z0-9_,\s]*)\]\.$/.exec(text);
  assert.ok(match, `enabled_plugins is not an Erlang list of plugin names: ${text}`);
  return match[1]!
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

function definitions(): {
  users: Array<{ name: string }>;
  policies: Array<{ name: string; pattern: string }>;
  queues: Array<{ name: string; arguments: Record<string, unknown> }>;
  exchanges: Array<{ name: string; type: string }>;
} {
  return JSON.parse(readFileSync(`${INFRA}definitions.json`, 'utf8'));
}

/** The role passwords init.sh reads from the environment (random per run, as an operator's .env holds). */
const PASSWORDS = {
  'chat-gateway': randomBytes(12).toString('hex'),
  'chat-persister': randomBytes(12).toString('hex'),
  'chat-admin': randomBytes(12).toString('hex'),
} as const;

function as(account: keyof typeof PASSWORDS, url: string): string {
  return url.replace('guest:guest@', `${account}:${PASSWORDS[account]}@`);
}

async function quorumMembers(cluster: RabbitCluster, queue: string): Promise<string[]> {
  const out = await cluster.rabbitmqQueues(0, '-q', 'quorum_status', queue, '--formatter', 'json');
  return (JSON.parse(out) as Array<Record<string, string>>).map((row) => row['Node Name']!).sort();
}

describe('the shipped RabbitMQ configuration on a 3-node cluster', () => {
  let cluster: RabbitCluster;

  before(
    async () => {
      cluster = await startRabbitCluster({
        size: 3,
        extraConfig: shippedRabbitConfig(),
        enabledPlugins: shippedPlugins(),
      });
    },
    { timeout: 240_000 },
  );
  after(async () => {
    await cluster?.stop();
  });

  test('boots with rabbitmq.conf and definitions.json: only the defined users exist and the topology and policy are in place', async () => {
    const users = JSON.parse(await cluster.rabbitmqctl(0, '-q', 'list_users', '--formatter', 'json')) as Array<{
      user: string;
    }>;
    assert.deepEqual(
      users.map((u) => u.user).sort(),
      definitions()
        .users.map((u) => u.name)
        .sort(),
      'a node importing definitions at boot creates no guest user',
    );
    const names = topologyNames('chat', 16);
    assert.deepEqual(await cluster.listQueues('chat.'), [names.persistQueue, names.deadQueue].sort());
    assert.deepEqual(
      await cluster.listExchanges('chat.'),
      [names.frontExchange, ...names.routeExchanges, names.deadExchange].sort(),
    );
    const policies = JSON.parse(await cluster.rabbitmqctl(0, '-q', 'list_policies', '--formatter', 'json')) as Array<{
      name: string;
    }>;
    assert.deepEqual(
      policies.map((p) => p.name).sort(),
      definitions()
        .policies.map((p) => p.name)
        .sort(),
    );
  });

  test('init.sh gives every quorum queue a replica on every node, and running it again is harmless', async () => {
    const before = await quorumMembers(cluster, 'chat.persist');
    // The node that imported the definitions was alone when it declared the queue.
    assert.ok(before.length < 3, `expected fewer than 3 replicas before init.sh, got ${before.join(', ')}`);
    const env = {
      ...process.env,
      ...cluster.cliEnv,
      PATH: `${RABBITMQ_BIN}:${process.env.PATH}`,
      RABBITMQ_NODES: cluster.nodeNames.join(' '),
      RABBITMQ_GATEWAY_PASSWORD: PASSWORDS['chat-gateway'],
      RABBITMQ_PERSISTER_PASSWORD: PASSWORDS['chat-persister'],
      RABBITMQ_ADMIN_PASSWORD: PASSWORDS['chat-admin'],
    } as NodeJS.ProcessEnv;
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
    for (let round = 1; round <= 2; round++) {
      const { stdout } = await run('sh', [`${INFRA}init.sh`], { env, timeout: 180_000 });
      assert.match(stdout, /rabbitmq-init: done/, `round ${round}`);
    }
    const users = JSON.parse(await cluster.rabbitmqctl(0, '-q', 'list_users', '--formatter', 'json')) as Array<{
      user: string;
      tags: string[] | string;
    }>;
    assert.deepEqual(users.map((u) => u.user).sort(), ['chat-admin', 'chat-gateway', 'chat-persister']);
    assert.match(String(users.find((u) => u.user === 'chat-admin')!.tags), /administrator/);
    const everyNode = [...cluster.nodeNames].sort();
    assert.deepEqual(await quorumMembers(cluster, 'chat.persist'), everyNode);
    assert.deepEqual(await quorumMembers(cluster, 'chat.persist.dead'), everyNode);
  });

  test("the router's idempotent declaration matches the imported topology: no PRECONDITION_FAILED, durable writes confirmed", async () => {
    const problems: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (obj: unknown, msg?: string) => problems.push(`${msg} ${JSON.stringify(obj)}`),
      error: (obj: unknown, msg?: string) => problems.push(`${msg} ${JSON.stringify(obj)}`),
    };
    const router = createRouter({
      url: cluster.urls.map((u) => as('chat-admin', u)),
      prefix: 'chat',
      partitions: 16,
      persistDeliveryLimit: definitions().queues.find((q) => q.name === 'chat.persist')!.arguments[
        'x-delivery-limit'
      ] as number,
      serverId: 'infra-test',
      logger,
    });
    try {
      await router.ready(30_000);
      const id = await new SnowflakeGenerator({ workerId: 1 }).next();
      await router.durableWrite({
        v: 1,
        type: 'message.create',
        id,
        channel_id: '1',
        author: { id: '1', username: 'infra' },
        content: 'declared twice, stored once',
        nonce: `infra-${id}`,
        timestamp: new Date().toISOString(),
      });
      assert.deepEqual(
        problems.filter((p) => /PRECONDITION|406/.test(p)),
        [],
      );
    } finally {
      await router.close();
    }

    // The check has teeth: the same queue with another delivery limit is refused.
    const connection = await amqp.connect(as('chat-admin', cluster.urls[0]!));
    connection.on('error', () => {});
    try {
      const channel = await connection.createChannel();
      const closed = new Promise((resolve) => channel.once('error', resolve));
      await assert.rejects(
        channel.assertQueue('chat.persist', {
          durable: true,
          arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 11 },
        }),
        /PRECONDITION_FAILED/,
      );
      await closed;
    } finally {
      await connection.close();
    }
  });

  test('least privilege: the gateway and persister accounts run the durable path without declaring the topology, and nothing more', async () => {
    const gateway = createRouter({
      url: cluster.urls.map((u) => as('chat-gateway', u)),
      prefix: 'chat',
      partitions: 16,
      serverId: 'least-privilege',
      declareTopology: false,
    });
    const persister = createRouter({
      url: cluster.urls.map((u) => as('chat-persister', u)),
      prefix: 'chat',
      partitions: 16,
      declareTopology: false,
    });
    try {
      await Promise.all([gateway.ready(30_000), persister.ready(30_000)]);
      await gateway.attach('user-1');
      const delivered: string[] = [];
      const acked: string[] = [];
      await gateway.consume((env) => {
        delivered.push((env.data as { id: string }).id);
      });
      // The persister's part: store (here: accept) writes from chat-gateway only, then dispatch.
      await persister.consumeDurable(
        async (d: DurableDelivery) => {
          await persister.dispatch(
            { v: 1, type: 'dispatch', event: 'MESSAGE_CREATE', to: ['user-1'], data: { id: d.envelope.id } },
            { users: ['user-1'] },
            { confirm: true },
          );
          d.ack();
          acked.push(d.envelope.id);
        },
        { writers: ['chat-gateway'] },
      );
      const id = await new SnowflakeGenerator({ workerId: 2 }).next();
      await gateway.durableWrite({
        v: 1,
        type: 'message.create',
        id,
        channel_id: '1',
        author: { id: 'user-1', username: 'one' },
        content: 'least privilege',
        timestamp: new Date().toISOString(),
      });
      // The gateway may see the dispatch before the persister's confirm returns and it acks: wait for
      // the ack too, or closing the persister would requeue the write into chat.persist (where the
      // next test looks for its own).
      for (let i = 0; i < 500 && !(delivered.includes(id) && acked.includes(id)); i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(delivered, [id]);
      assert.deepEqual(acked, [id]);
    } finally {
      await Promise.all([gateway.close(), persister.close()]);
    }

    // What each account may NOT do (each refusal closes the channel with ACCESS_REFUSED).
    const refused = async (account: keyof typeof PASSWORDS, what: (ch: amqp.Channel) => unknown) => {
      const connection = await amqp.connect(as(account, cluster.urls[0]!));
      connection.on('error', () => {});
      try {
        const ch = await connection.createChannel();
        const closed = new Promise<Error>((resolve) => ch.once('error', resolve));
        await Promise.resolve(what(ch)).catch(() => {});
        assert.match((await closed).message, /ACCESS_REFUSED/, account);
      } finally {
        await connection.close().catch(() => {});
      }
    };
    await refused('chat-gateway', (ch) => ch.consume('chat.persist', () => {}));
    await refused('chat-gateway', (ch) => ch.assertExchange('chat.route.0', 'topic', { durable: true }));
    await refused('chat-persister', (ch) => ch.publish('', 'chat.persist', Buffer.from('{}')));
    await refused('chat-persister', (ch) => ch.consume('chat.persist.dead', () => {}));
  });

  test("the gateway account runs the operator's dead-letter operations: list, and requeue into chat.persist", async () => {
    const body = Buffer.from(`{"dead letter for the operator ${Date.now()}"}`);
    const admin = await amqp.connect(as('chat-admin', cluster.urls[0]!));
    try {
      const ch = await admin.createConfirmChannel();
      ch.publish('chat.dlx', '', body, { persistent: true, headers: { 'x-chat-dead-reason': 'invalid_json' } });
      await ch.waitForConfirms();
      const dlq = new DeadLetterQueue({ urls: [as('chat-gateway', cluster.urls[0]!)], prefix: 'chat' });
      const { letters } = await dlq.list(100);
      const letter = letters.find((l) => l.id === deadLetterId(body));
      assert.equal(letter?.reason, 'invalid_json');
      assert.equal((await dlq.requeue(letter!.id))?.id, letter!.id);
      // chat.persist may still hold the previous test's write: on a quorum queue an ack sent just before
      // its channel closes can lose the race with the consumer's removal and be requeued (at-least-once).
      let requeued: amqp.GetMessage | false = false;
      for (let i = 0; i < 10; i++) {
        requeued = await ch.get('chat.persist', { noAck: true });
        if (!requeued || requeued.content.equals(body)) break;
      }
      assert.ok(requeued, 'the requeued write is in chat.persist');
      assert.deepEqual(requeued.content, body);
      assert.equal(requeued.properties.userId, 'chat-gateway');
      assert.equal(requeued.properties.headers?.['x-chat-dead-reason'], undefined);
      await ch.close();
    } finally {
      await admin.close();
    }
  });

  test('every node serves rabbitmq_prometheus metrics, node-wide and per queue', async () => {
    assert.equal(cluster.prometheusPorts.length, 3);
    const perQueue: string[] = [];
    for (const port of cluster.prometheusPorts) {
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /^rabbitmq_identity_info\{/m);
      assert.match(metrics, /^rabbitmq_queue_messages_ready /m);
      const detailed = await (
        await fetch(`http://127.0.0.1:${port}/metrics/detailed?family=queue_coarse_metrics&family=queue_consumer_count`)
      ).text();
      perQueue.push(...detailed.split('\n').filter((l) => l.startsWith('rabbitmq_detailed_queue_messages_ready{')));
    }
    // Each queue is reported once across the cluster (by its leader's node), so sums do not double count.
    const persist = perQueue.filter((l) => l.includes('queue="chat.persist"'));
    assert.equal(persist.length, 1, perQueue.join('\n'));
  });
});
