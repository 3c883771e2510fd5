// The broker ceiling of the durable path (docs/benchmarks.md W5): raw amqplib, one ConfirmChannel, a
// window of W outstanding persistent publishes (per-message callbacks, honouring 'drain') into a
// fresh quorum queue that is deleted afterwards. Every confirmed message must be in the queue.
// `publishConfirmed` is the same loop into an existing queue (pre-filling the persist queue).
import amqp, { type ConfirmChannel, type Options } from 'amqplib';
import { type LatencyHistogram, type LatencySummary, latencyHistogram, recordMs, summarize } from './stats.js';
import { CpuMeter, type CpuReading, type ProcessSet } from './system.js';

export interface RawConfirmResult {
  messages: number;
  window: number;
  ms: number;
  perSec: number;
  latency: LatencySummary;
  /** Messages the queue held afterwards (must equal `messages`). */
  stored: number;
  cpu: CpuReading;
}

/** Properties of a durable write as router.durableWrite() sets them. */
export function durableProps(type: string, messageId: string | undefined): Options.Publish {
  return {
    contentType: 'application/json',
    messageId,
    timestamp: Math.floor(Date.now() / 1000),
    type,
    persistent: true,
    headers: { v: 1 },
  };
}

/**
 * Publishes `bodies` to `queue` on a confirm channel with `window` publishes outstanding; resolves
 * when the last one is confirmed, rejects on a nack or after `timeoutMs`.
 */
export function publishConfirmed(
  ch: ConfirmChannel,
  queue: string,
  bodies: readonly Buffer[],
  window: number,
  timeoutMs: number,
  props: (i: number) => Options.Publish,
  hist?: LatencyHistogram,
): Promise<void> {
  if (bodies.length === 0) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  return new Promise<void>((resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`confirmed publishing did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    let next = 0;
    let done = 0;
    let inflight = 0;
    let blocked = false;
    let failed = false;
    const pump = () => {
      while (!blocked && !failed && inflight < window && next < bodies.length) {
        const i = next++;
        const sentAt = performance.now();
        inflight++;
        const ok = ch.sendToQueue(queue, bodies[i]!, props(i), (err: unknown) => {
          if (err) {
            failed = true;
            reject(new Error(`publish was not confirmed: ${String(err)}`));
            return;
          }
          if (hist) recordMs(hist, performance.now() - sentAt);
          inflight--;
          done++;
          if (done === bodies.length) resolve();
          else pump();
        });
        if (!ok) {
          blocked = true;
          ch.once('drain', () => {
            blocked = false;
            pump();
          });
        }
      }
    };
    pump();
  }).finally(() => clearTimeout(timer));
}

/**
 * The ceiling: publishes `bodies` into a fresh durable quorum queue `queue` (declared here, deleted
 * at the end), measuring `procs` for CPU over the publishing interval.
 */
export async function rawQuorumConfirm(
  url: string,
  queue: string,
  bodies: readonly Buffer[],
  window: number,
  procs: ProcessSet,
  timeoutMs: number,
): Promise<RawConfirmResult> {
  const conn = await amqp.connect(url, { clientProperties: { connection_name: `${queue}-raw` }, noDelay: true });
  conn.on('error', () => {});
  try {
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => {});
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const hist = latencyHistogram();
    const cpu = new CpuMeter(procs);
    const started = performance.now();
    await publishConfirmed(ch, queue, bodies, window, timeoutMs, () => durableProps('message.create', undefined), hist);
    const ms = performance.now() - started;
    const reading = cpu.stop();
    const { messageCount } = await ch.checkQueue(queue);
    await ch.deleteQueue(queue);
    await ch.close();
    return {
      messages: bodies.length,
      window,
      ms,
      perSec: bodies.length / (ms / 1000),
      latency: summarize(hist),
      stored: messageCount,
      cpu: reading,
    };
  } finally {
    // Deleted above on success; after a failure make sure the queue goes with the run.
    await conn
      .createChannel()
      .then(async (ch) => {
        ch.on('error', () => {});
        await ch.deleteQueue(queue).catch(() => {});
      })
      .catch(() => {});
    await conn.close().catch(() => {});
  }
}
