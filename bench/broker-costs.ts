// Broker CPU per message for the two things every chat message costs RabbitMQ here, measured in one
// run against the system node (user + system time of its beam.smp from /proc):
//  1. a durable write into a quorum queue at a paced 1,000 writes/s, by writes per AMQP message
//     (1 = no bundling; the gateways' write bundles and group commit raise it), with a consumer that
//     acks every 5 ms with `multiple` as the persister does;
//  2. routing one ephemeral dispatch through a topic vs a direct exchange with 1,000 user bindings
//     over two queues, with 1, 2 and 16 routing keys (all but the first in `CC`), and through the
//     direct exchange with the one key both queues bind (the router's broadcast, broadcast.ts).
// The broker's idle CPU (measured first, 5 s) is subtracted in the last column: at 1,000 writes/s
// every 1% of a core the broker spends on its own is 10 µs per write.
// Prints a table; no files written (the figures are quoted in bench/results/profile-2026-12.md).
//
//   npm run -w @chat/bench broker-costs -- [--rate 1000] [--seconds 8] [--dispatches 30000] [--routing-only]
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { amqpUrl, uniquePrefix } from '@chat/testkit';
import amqp from 'amqplib';
import { defineScenario, type ScenarioOutcome } from './lib/scenario.js';
import { printSystem, systemBrokerPid } from './lib/system.js';
import { formatTable as table } from './lib/table.js';

const scenario = defineScenario({
  name: 'broker-costs',
  summary:
    'Broker CPU per durable write (by writes per AMQP message) and per routed dispatch (topic vs direct), system node',
  flags: {
    rate: { type: 'int', default: 1000, min: 10, max: 50_000, help: 'durable writes per second' },
    seconds: { type: 'int', default: 8, min: 2, max: 120, help: 'seconds per write case' },
    dispatches: { type: 'int', default: 30_000, min: 1000, max: 1_000_000, help: 'dispatches per routing case' },
    'routing-only': { type: 'boolean', help: 'skip the durable-write cases' },
  },
  quick: { seconds: 2, dispatches: 1000 },
  saves: false,
  limitMinutes: 20,
});
const { rate: RATE, seconds: SECONDS, dispatches: DISPATCHES, 'routing-only': ROUTING_ONLY } = scenario.flags;
const USERS = 1000;

scenario.run(async (): Promise<ScenarioOutcome> => {
  const pid = await systemBrokerPid();
  if (pid === undefined) throw new Error('the system RabbitMQ node is not reachable with rabbitmqctl');
  /** [user, system] CPU ticks (1/100 s) of the broker so far. */
  function brokerTicks(): [number, number] {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return [Number(fields[11]), Number(fields[12])];
  }

  /** The broker's own CPU with none of our traffic (ticks per second), subtracted from every figure. */
  async function idleTicksPerSecond(): Promise<number> {
    const [u0, s0] = brokerTicks();
    await sleep(5000);
    const [u1, s1] = brokerTicks();
    return (u1 - u0 + s1 - s0) / 5;
  }

  await printSystem(amqpUrl());
  const idle = await idleTicksPerSecond();
  console.log(`broker idle: ${idle.toFixed(1)}% of a core (subtracted below)`);
  const prefix = uniquePrefix('brokercost');
  const conn = await amqp.connect(amqpUrl());
  const pub = await conn.createConfirmChannel();
  const con = await conn.createChannel();
  await con.prefetch(2000);

  async function quorumWrites(perMessage: number): Promise<string[]> {
    const queue = `${prefix}q${perMessage}`;
    await pub.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    let last: amqp.ConsumeMessage | null = null;
    let ackScheduled = false;
    const { consumerTag } = await con.consume(queue, (m) => {
      last = m;
      if (ackScheduled) return;
      ackScheduled = true;
      setTimeout(() => {
        ackScheduled = false;
        if (last) con.ack(last, true);
      }, 5);
    });
    const tickMs = Math.max(1, Math.round((perMessage * 1000) / RATE));
    const body = Buffer.alloc(300 * perMessage, 'x');
    const [u0, s0] = brokerTicks();
    const started = Date.now();
    let writes = 0;
    let messages = 0;
    while (Date.now() - started < SECONDS * 1000) {
      const due = Math.floor(((Date.now() - started) * RATE) / 1000);
      while (writes + perMessage <= due) {
        pub.publish('', queue, body, { persistent: true });
        writes += perMessage;
        messages++;
      }
      await sleep(tickMs);
    }
    await pub.waitForConfirms();
    await sleep(1500); // the consumer's last acks, and the broker's work behind them
    const [u1, s1] = brokerTicks();
    const idleTicks = (idle * (Date.now() - started)) / 1000;
    await con.cancel(consumerTag);
    await sleep(50);
    await pub.deleteQueue(queue);
    const us = (ticks: number) => ((Math.max(0, ticks) * 10_000) / writes).toFixed(0);
    return [
      String(perMessage),
      (messages / SECONDS).toFixed(0),
      (writes / SECONDS).toFixed(0),
      us(u1 - u0 + s1 - s0),
      us(u1 - u0 + s1 - s0 - idleTicks),
    ];
  }

  /**
   * Routes DISPATCHES messages through a `type` exchange holding USERS user bindings over two queues:
   * with `keys` routing keys (the first as routing key, the rest in `CC`), or (`keys` = 'all') with the
   * one key both queues also bind, as the router's broadcast publishes.
   */
  async function routing(type: 'topic' | 'direct', keys: number | 'all'): Promise<string[]> {
    const exchange = `${prefix}${type}${keys}`;
    await pub.assertExchange(exchange, type, { durable: false });
    const queues: string[] = [];
    for (let q = 0; q < 2; q++) {
      const { queue } = await pub.assertQueue('', { exclusive: true });
      queues.push(queue);
      for (let u = q; u < USERS; u += 2) await pub.bindQueue(queue, exchange, `u.${u}`);
      if (keys === 'all') await pub.bindQueue(queue, exchange, 'all');
      await con.consume(queue, () => {}, { noAck: true });
    }
    await sleep(500);
    const body = Buffer.alloc(300, 'x');
    const [u0, s0] = brokerTicks();
    const started = Date.now();
    for (let i = 0; i < DISPATCHES; i++) {
      if (keys === 'all') pub.publish(exchange, 'all', body, {});
      else {
        const cc = Array.from({ length: keys - 1 }, (_, k) => `u.${(i * 13 + 1 + k * 61) % USERS}`);
        pub.publish(exchange, `u.${(i * 7) % USERS}`, body, cc.length > 0 ? { CC: cc } : {});
      }
      if (i % 1000 === 999) await pub.waitForConfirms();
    }
    await pub.waitForConfirms();
    await sleep(1000);
    const [u1, s1] = brokerTicks();
    const idleTicks = (idle * (Date.now() - started)) / 1000;
    for (const q of queues) await pub.deleteQueue(q);
    await pub.deleteExchange(exchange);
    const us = (ticks: number) => ((Math.max(0, ticks) * 10_000) / DISPATCHES).toFixed(0);
    const keyText =
      keys === 'all' ? '1 bound by both queues (broadcast)' : keys === 1 ? '1' : `${keys} (${keys - 1} in CC)`;
    return [type, keyText, us(u1 - u0 + s1 - s0), us(u1 - u0 + s1 - s0 - idleTicks)];
  }

  try {
    const writeRows: string[][] = [];
    for (const per of ROUTING_ONLY ? [] : [1, 3, 10, 50]) writeRows.push(await quorumWrites(per));
    if (writeRows.length > 0) {
      console.log(`\nDurable writes into a quorum queue at ${RATE}/s for ${SECONDS} s, by writes per AMQP message`);
      console.log(
        table(
          [
            'writes per message',
            'messages/s',
            'writes/s',
            'broker user µs / write',
            'broker system µs / write',
            'broker µs / write',
          ],
          writeRows,
        ),
      );
    }
    const routeRows: string[][] = [];
    for (const keys of [1, 2, 16] as const)
      for (const type of ['topic', 'direct'] as const) routeRows.push(await routing(type, keys));
    routeRows.push(await routing('direct', 'all'));
    console.log(
      `\nRouting ${DISPATCHES} non-persistent messages, ${USERS} user bindings over 2 queues, confirms every 1,000`,
    );
    console.log(table(['exchange', 'routing keys', 'broker µs / message', 'minus idle'], routeRows));
  } finally {
    await conn.close().catch(() => {});
  }
  return { code: 0 };
});
