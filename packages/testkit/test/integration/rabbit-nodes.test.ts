// Starts real RabbitMQ nodes from the Debian install (no mocks) and checks what the launcher
// promises: boot, clustering, quorum leadership, kill and restart, forced connection closes.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  type RabbitCluster,
  type RabbitNode,
  startRabbitCluster,
  startRabbitNode,
  uniquePrefix,
  useAmqpLeakCheck,
} from '@chat/testkit';
import amqp from 'amqplib';

useAmqpLeakCheck();

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function closed(connection: amqp.ChannelModel): Promise<{ error: Error | undefined; closeArg: unknown }> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    connection.on('error', (err: Error) => {
      error = err;
    });
    connection.once('close', (closeArg: unknown) => resolve({ error, closeArg }));
  });
}

describe('a single testkit node', () => {
  let node: RabbitNode;
  before(async () => {
    node = await startRabbitNode();
  });
  after(async () => {
    await node?.stop();
  });

  test('starts on its own ports and accepts an amqplib connection', async () => {
    assert.notEqual(node.ports[0], 5672);
    assert.match(node.nodeName, /^tk\d+[0-9a-f]+n1@localhost$/);
    const connection = await amqp.connect(node.url);
    try {
      const channel = await connection.createChannel();
      const prefix = uniquePrefix('single');
      await channel.assertQueue(`${prefix}q`, { durable: false });
      assert.deepEqual(await node.listQueues(prefix), [`${prefix}q`]);
      await channel.close();
    } finally {
      await connection.close();
    }
  });

  test('stop kills the node and removes its directory, and a second stop is harmless', async () => {
    const extra = await startRabbitNode();
    const pid = extra.osPid(0);
    assert.ok(pid && isProcessAlive(pid));
    const home = extra.cliEnv.HOME;
    assert.ok(home && existsSync(home));
    await extra.stop();
    await extra.stop();
    assert.equal(isProcessAlive(pid), false);
    assert.equal(existsSync(home), false);
  });
});

describe('a 3-node testkit cluster', () => {
  let cluster: RabbitCluster;
  before(async () => {
    const started = Date.now();
    cluster = await startRabbitCluster({ size: 3 });
    console.log(`# cluster of 3 started in ${Date.now() - started} ms`);
  });
  after(async () => {
    await cluster?.stop();
  });

  test('forms with all three nodes running in cluster_status', async () => {
    const status = JSON.parse(await cluster.rabbitmqctl(2, '-q', 'cluster_status', '--formatter', 'json')) as {
      running_nodes: string[];
      disk_nodes: string[];
    };
    assert.deepEqual([...status.running_nodes].sort(), [...cluster.nodeNames].sort());
    assert.deepEqual([...status.disk_nodes].sort(), [...cluster.nodeNames].sort());
  });

  test('a quorum queue has a leader, which moves when its node is killed, and the node rejoins after startNode', async () => {
    const queue = `${uniquePrefix('qq')}q`;
    const connection = await amqp.connect(cluster.urls[0]!);
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      for (let i = 0; i < 10; i += 1) channel.sendToQueue(queue, Buffer.from(`m${i}`), { persistent: true });
      await channel.waitForConfirms();
      await channel.close();
    } finally {
      await connection.close();
    }

    const leader = await cluster.quorumLeader(queue);
    assert.equal(leader.nodeName, cluster.nodeNames[leader.index]);
    assert.equal(await cluster.queueMessageCount(queue), 10);

    const pid = cluster.osPid(leader.index);
    assert.ok(pid && isProcessAlive(pid));
    await cluster.killNode(leader.index);
    assert.equal(isProcessAlive(pid), false, 'beam.smp is gone after killNode');
    assert.equal(cluster.isRunning(leader.index), false);

    const next = await cluster.quorumLeader(queue);
    assert.notEqual(next.index, leader.index);
    assert.equal(await cluster.queueMessageCount(queue), 10);

    await cluster.startNode(leader.index);
    assert.equal(cluster.isRunning(leader.index), true);
    const status = JSON.parse(
      await cluster.rabbitmqctl(leader.index, '-q', 'cluster_status', '--formatter', 'json'),
    ) as {
      running_nodes: string[];
    };
    assert.deepEqual([...status.running_nodes].sort(), [...cluster.nodeNames].sort());
    const members = JSON.parse(
      await cluster.rabbitmqQueues(leader.index, '-q', 'quorum_status', queue, '--formatter', 'json'),
    ) as { 'Node Name': string; 'Raft State': string }[];
    assert.equal(members.length, 3);
    await cluster.rabbitmqctl(0, 'delete_queue', queue);
  });

  test('stopNode stops a node gracefully and startNode brings it back', async () => {
    const pid = cluster.osPid(1);
    assert.ok(pid);
    await cluster.stopNode(1);
    assert.equal(isProcessAlive(pid), false);
    const status = JSON.parse(await cluster.rabbitmqctl(0, '-q', 'cluster_status', '--formatter', 'json')) as {
      running_nodes: string[];
    };
    assert.equal(status.running_nodes.includes(cluster.nodeNames[1]!), false);
    await cluster.startNode(1);
    assert.notEqual(cluster.osPid(1), pid);
  });

  test('closeClientConnections closes a named connection and leaves a differently named one open', async () => {
    const prefix = uniquePrefix('close');
    const victim = await amqp.connect(cluster.urls[1]!, { clientProperties: { connection_name: `${prefix}victim` } });
    const bystander = await amqp.connect(cluster.urls[1]!, {
      clientProperties: { connection_name: `${prefix}bystander` },
    });
    try {
      const victimClosed = closed(victim);
      assert.equal(await cluster.closeClientConnections(1, `${prefix}victim`), 1);
      const { closeArg } = await victimClosed;
      assert.match(String(closeArg), /CONNECTION_FORCED/);

      const channel = await bystander.createChannel();
      await channel.checkExchange('amq.direct');
      await channel.close();
      assert.equal(await cluster.closeClientConnections(1, `${prefix}nobody`), 0);
    } finally {
      await bystander.close();
    }
  });
});
