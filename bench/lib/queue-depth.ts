// Reading and emptying a run's queues on the broker between steps (w1, w2): a fresh connection each
// time, one channel per queue (checking a missing queue closes its channel), errors swallowed.
import amqp from 'amqplib';

async function eachQueue(
  broker: string,
  names: readonly string[],
  connectionName: string,
  fn: (ch: amqp.Channel, queue: string) => Promise<void>,
): Promise<void> {
  const conn = await amqp.connect(broker, { clientProperties: { connection_name: connectionName } });
  conn.on('error', () => {});
  try {
    for (const q of names) {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      await fn(ch, q).catch(() => {});
      await ch.close().catch(() => {});
    }
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Messages ready in the queues, in total; a missing queue holds nothing. */
export async function queueDepth(broker: string, names: readonly string[], connectionName: string): Promise<number> {
  let total = 0;
  await eachQueue(broker, names, connectionName, async (ch, q) => {
    total += (await ch.checkQueue(q)).messageCount;
  });
  return total;
}

/** Purges every queue (a missing one is skipped). */
export async function purgeQueues(broker: string, names: readonly string[], connectionName: string): Promise<void> {
  await eachQueue(broker, names, connectionName, async (ch, q) => {
    await ch.purgeQueue(q);
  });
}
