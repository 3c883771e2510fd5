// The broker helpers against the system node at amqpUrl() (rabbit@localhost): names, listing,
// cleanup and forced connection closes, each checked through what the broker itself reports.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  AmqpLeakError,
  amqpUrl,
  closeClientConnections,
  deleteByPrefix,
  listExchanges,
  listQueues,
  RabbitCommandError,
  RabbitNodeError,
  uniquePrefix,
  useAmqpLeakCheck,
} from '@chat/testkit';
import amqp from 'amqplib';

useAmqpLeakCheck();

test('uniquePrefix gives distinct names that are safe in topic routing keys', () => {
  const prefixes = new Set(Array.from({ length: 1000 }, () => uniquePrefix('Chat Router.v2*#')));
  assert.equal(prefixes.size, 1000);
  for (const prefix of prefixes) {
    assert.match(prefix, /^t[0-9a-z]+-chat-router-v2-$/);
    assert.ok(prefix.length <= 40);
  }
  assert.match(uniquePrefix(), /^t[0-9a-z]+-$/);
});

test('listQueues and listExchanges report what a test declared, and deleteByPrefix removes it', async () => {
  const prefix = uniquePrefix('helpers');
  const connection = await amqp.connect(amqpUrl());
  try {
    const channel = await connection.createChannel();
    await channel.assertExchange(`${prefix}x`, 'topic', { durable: false });
    await channel.assertQueue(`${prefix}q1`, { durable: false });
    await channel.assertQueue(`${prefix}q2`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.close();
  } finally {
    await connection.close();
  }
  assert.deepEqual(await listQueues(prefix), [`${prefix}q1`, `${prefix}q2`]);
  assert.deepEqual(await listExchanges(prefix), [`${prefix}x`]);

  const deleted = await deleteByPrefix(amqpUrl(), prefix, {
    queues: [`${prefix}q1`, `${prefix}q2`, `${prefix}never-declared`],
    exchanges: [`${prefix}x`, `${prefix}never-declared`],
  });
  assert.equal(deleted.queues.length, 3);
  assert.deepEqual(await listQueues(prefix), []);
  assert.deepEqual(await listExchanges(prefix), []);
});

test('deleteByPrefix without names finds what the node holds under the prefix', async () => {
  const prefix = uniquePrefix('discover');
  const connection = await amqp.connect(amqpUrl());
  try {
    const channel = await connection.createChannel();
    await channel.assertExchange(`${prefix}x`, 'direct', { durable: false });
    await channel.assertQueue(`${prefix}q`, { durable: false });
    await channel.close();
  } finally {
    await connection.close();
  }
  assert.deepEqual(await deleteByPrefix(amqpUrl(), prefix), { queues: [`${prefix}q`], exchanges: [`${prefix}x`] });
  assert.deepEqual(await listQueues(prefix), []);
  assert.deepEqual(await listExchanges(prefix), []);
});

test('deleteByPrefix refuses a name outside the prefix', async () => {
  const prefix = uniquePrefix('guard');
  await assert.rejects(deleteByPrefix(amqpUrl(), prefix, { queues: ['amq.rabbitmq.trace'] }), /does not start with/);
});

test('closeClientConnections closes connections by name prefix on the system node and leaves others open', async () => {
  const prefix = uniquePrefix('close');
  const first = await amqp.connect(amqpUrl(), { clientProperties: { connection_name: `${prefix}a` } });
  const second = await amqp.connect(amqpUrl(), { clientProperties: { connection_name: `${prefix}b` } });
  const other = await amqp.connect(amqpUrl(), { clientProperties: { connection_name: `${uniquePrefix('close')}c` } });
  try {
    const closes = [once(first, 'close'), once(second, 'close')];
    assert.equal(await closeClientConnections({ namePrefix: prefix, reason: 'test says goodbye' }), 2);
    const reasons = await Promise.all(closes);
    for (const [reason] of reasons) assert.match(String(reason), /CONNECTION_FORCED - test says goodbye/);

    const channel = await other.createChannel();
    await channel.checkExchange('amq.topic');
    await channel.close();
  } finally {
    await other.close();
  }
});

test('every RabbitMQ and leak-check error code is listed in the README, and only those', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const listed = [...readme.matchAll(/\| `(\w+Error)` +\| `(TESTKIT_RABBIT_\w+|TESTKIT_AMQP_\w+)`/g)].map(
    ([, name, code]) => `${name}=${code}`,
  );
  const made = [
    new RabbitCommandError('x', { command: 'x', exitCode: 1, stdout: '', stderr: '' }),
    new RabbitNodeError('x'),
    new AmqpLeakError('x', []),
  ].map((error) => `${error.name}=${error.code}`);
  assert.deepEqual(listed.sort(), made.sort());
});

test('a failing rabbitmqctl call rejects with its stderr in the message', async () => {
  await assert.rejects(
    listQueues('x', { node: 'nosuchnode@localhost', timeoutMs: 30_000 }),
    (error: unknown) =>
      error instanceof RabbitCommandError &&
      error.code === 'TESTKIT_RABBIT_COMMAND_FAILED' &&
      error.exitCode !== 0 &&
      /nosuchnode/.test(error.message) &&
      error.message.includes(error.stderr.trim().slice(0, 40)),
  );
});
