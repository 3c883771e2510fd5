// One measured W1 step and the knee it feeds: wait for a lull in other people's load, generate the load
// (load.ts) while metering CPU and run-queue delay per process and sampling the queues once a second,
// wait the grace period, read the receipts and the services' metrics (breakdown.ts), then drain: every
// request answered and the persist and gateway queues empty (bounded; a backlog left is purged), so
// that steps do not overlap. A step "meets" the target with p99 < 100 ms, no loss, nothing refused.

import { queueMessages } from '@chat/testkit';
import amqp from 'amqplib';
import type { Shedding } from '../lib/overload.js';
import { scrape } from '../lib/prom.js';
import { purgeQueues, queueDepth } from '../lib/queue-depth.js';
import { SchedMeter } from '../lib/schedstat.js';
import { epochMs, type LatencySummary, sleep } from '../lib/stats.js';
import { CpuMeter, type CpuReading, waitForQuiet } from '../lib/system.js';
import { type Breakdown, breakdownOf, emptyBreakdown, scrapeServices } from './breakdown.js';
import { generate, type LoadMode, receipts, track, unanswered } from './load.js';
import type { W1Stack } from './stack.js';

/** Lost = not received this long after the send window. */
export const GRACE_MS = 5000;
/** The longest a step's drain may take before its backlog is purged. */
export const DRAIN_LIMIT_MS = 120_000;
export const TARGET_P99_MS = 100;

export interface StepResult {
  tag: string;
  mode: 'open' | 'closed';
  rate: number;
  durationS: number;
  sent: number;
  sentPerSec: number;
  maxBehind: number;
  responsesOk: number;
  responseErrors: Record<string, number>;
  received: number;
  /** Unique receipts during the send window, per second. */
  deliveredPerSec: number;
  /** Sent, not refused (`overloaded`), and never received. */
  lost: number;
  /** Acked / refused (`overloaded`) / other errors, and acked-but-lost (must be 0). */
  shedding: Shedding;
  /** Recipients that got a message more than once (extra copies). */
  duplicateCopies: number;
  messagesWithDuplicates: number;
  latency: LatencySummary;
  /** Latency by the second each message was sent in (empty unless measureStep was asked for it). */
  bySendSecond: LatencySummary[];
  confirmLatency: LatencySummary;
  cpu: CpuReading;
  drainedS: number;
  purged: boolean;
  closedSockets: number;
  breakdown: Breakdown;
  /** Once a second during send window + grace: persist queue depth, gateway queues' depth, stored so far. */
  samples: Array<{ s: number; persistDepth: number; gatewayDepth: number; stored: number }>;
  /** Persister: stored per second during the send window (from its counter, sampled). */
  storedPerSec: number;
  maxPersistDepth: number;
  maxGatewayDepth: number;
  /** Waited for a lull in other people's load before the step (DISTURBED_PCT); false = proceeded anyway. */
  quietStart: boolean;
  /** Requests still unanswered by the gateways when the drain limit ran out (0 = the step ended cleanly). */
  unansweredAfterDrain: number;
  /** Per process: thread-time spent runnable but waiting for a CPU, % of the send window. */
  runQueue: Record<string, number | undefined>;
  /** Per process: times per second one of its threads was put on a CPU (wake-ups and preemptions). */
  slicesPerSec: Record<string, number | undefined>;
}

/** The sweep's target: p99 < TARGET_P99_MS, nothing lost, refused or failed. */
export function meets(s: StepResult): boolean {
  return s.lost === 0 && s.shedding.refused === 0 && s.shedding.otherErrors === 0 && s.latency.p99Ms < TARGET_P99_MS;
}

/** Stored per second over the send window: the counter at the last sample inside it minus the start. */
function storedRate(samples: StepResult['samples'], durationS: number, before: number): number {
  const inside = samples.filter((x) => x.s <= durationS);
  const last = inside[inside.length - 1];
  return last && last.s > 0 ? (last.stored - before) / last.s : Number.NaN;
}

/**
 * Until the step is over everywhere: every request answered by the gateways, then the persist and
 * gateway queues empty. Bounded: unanswered requests cannot be taken back (they are inside the
 * gateways), a backlog left in the queues is purged; the step says which.
 */
export async function waitDrained(stack: W1Stack): Promise<{ drainedS: number; purged: boolean; pending: number }> {
  const started = performance.now();
  let pending = await unanswered(stack.loadgens);
  while (pending > 0 && performance.now() - started < DRAIN_LIMIT_MS) {
    await sleep(500);
    pending = await unanswered(stack.loadgens);
  }
  while (performance.now() - started < DRAIN_LIMIT_MS) {
    // Ready messages first (cheap, over AMQP); then ready + unacknowledged, so that what the persister
    // and the gateways hold prefetched is drained too before acked-lost is judged. (If rabbitmqctl cannot
    // reach the broker, only the ready count is known and the drain falls back to it.)
    if (
      (await queueDepth(stack.broker, stack.queues, 'bench-w1-depth')) === 0 &&
      (await queueMessages(stack.queues).catch(() => 0)) === 0
    ) {
      const s = (performance.now() - started) / 1000;
      await sleep(1000);
      return { drainedS: s, purged: false, pending };
    }
    await sleep(500);
  }
  await purgeQueues(stack.broker, stack.queues, 'bench-w1-purge');
  await sleep(2000);
  return { drainedS: DRAIN_LIMIT_MS / 1000, purged: true, pending };
}

/** Once a second until `stop()`: persist queue depth, gateway queues' depth, stored so far. */
function sampleQueues(stack: W1Stack): { samples: StepResult['samples']; stop(): Promise<void> } {
  const samples: StepResult['samples'] = [];
  let sampling = true;
  const done = (async () => {
    const conn = await amqp.connect(stack.broker, { clientProperties: { connection_name: `${stack.prefix}:sampler` } });
    conn.on('error', () => {});
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    const begun = performance.now();
    try {
      while (sampling) {
        const [persistDepth, ...gws] = await Promise.all(
          stack.queues.map((q) => ch.checkQueue(q).then((r) => r.messageCount)),
        );
        const stored = (await scrape(stack.persister!.metricsUrl)).value('chat_persister_stored_total');
        samples.push({
          s: (performance.now() - begun) / 1000,
          persistDepth: persistDepth!,
          gatewayDepth: gws.reduce((a, b) => a + b, 0),
          stored,
        });
        await sleep(1000);
      }
    } finally {
      await conn.close().catch(() => {});
    }
  })();
  return {
    samples,
    stop: async () => {
      sampling = false;
      await done.catch((err: unknown) => console.warn(`  sampler: ${(err as Error).message}`));
    },
  };
}

/**
 * Runs one step of `durationS` and measures it (see the header); `bySendSecond`: also its latency by
 * the second each message was sent in.
 */
export async function measureStep(
  stack: W1Stack,
  mode: LoadMode,
  tag: string,
  rate: number,
  durationS: number,
  bySendSecond = false,
): Promise<StepResult> {
  const { loadgens, procs } = stack;
  const quiet = await waitForQuiet(procs, 60_000);
  await track(loadgens, tag, epochMs(), bySendSecond);
  const before = await scrapeServices(stack);
  const sampler = sampleQueues(stack);
  const cpu = new CpuMeter(procs);
  const sched = new SchedMeter(procs);
  const runs = await generate(loadgens, mode, tag, rate, durationS);
  const reading = cpu.stop();
  const { runQueue, slicesPerSec } = sched.stop();
  await sleep(GRACE_MS);
  await sampler.stop();
  const samples = sampler.samples;
  const after = await scrapeServices(stack);
  const m = await receipts(loadgens, durationS);
  const breakdown =
    before && after
      ? breakdownOf(before[0], after[0], before[1], after[1], m.sent, durationS + GRACE_MS / 1000)
      : emptyBreakdown();
  const sendMs = Math.max(...runs.map((r) => r.ms));
  const { drainedS, purged, pending } = await waitDrained(stack);
  // Acked-lost is judged once the queues are empty (late is not lost): the receipts again, after the drain.
  const drained = await receipts(loadgens, durationS);
  const shedding: Shedding = {
    ...m.shedding,
    acked: drained.shedding.acked,
    ackedLost: drained.shedding.ackedLost,
    lateDelivered: drained.shedding.ackedDelivered - m.shedding.ackedDelivered,
  };
  return {
    tag,
    mode,
    rate,
    durationS,
    sent: m.sent,
    sentPerSec: m.sent / (sendMs / 1000),
    maxBehind: Math.max(...runs.map((r) => r.maxBehind ?? 0)),
    responsesOk: m.responsesOk,
    responseErrors: m.responseErrors,
    received: m.unique,
    deliveredPerSec: m.inWindow / durationS,
    lost: m.sent - m.shedding.refused - m.unique,
    shedding,
    duplicateCopies: m.extraCopies,
    messagesWithDuplicates: m.duplicated,
    latency: m.latency,
    bySendSecond: m.bySendSecond.slice(0, durationS),
    confirmLatency: m.ackLatency,
    cpu: reading,
    drainedS,
    purged,
    closedSockets: m.closedSockets,
    breakdown,
    samples,
    storedPerSec: storedRate(
      samples,
      durationS,
      before?.[1].value('chat_persister_stored_total') ?? samples[0]?.stored ?? 0,
    ),
    maxPersistDepth: Math.max(0, ...samples.map((x) => x.persistDepth)),
    maxGatewayDepth: Math.max(0, ...samples.map((x) => x.gatewayDepth)),
    quietStart: quiet.quiet,
    unansweredAfterDrain: pending,
    runQueue,
    slicesPerSec,
  };
}
