// W1's load generation, through the two load-generator processes of the stack (lib/ws-loadgen.ts):
// an open-loop step (a timer sends message.create at an aggregate rate R from random clients onto
// their DM channels; half the rate on each loader), a closed-loop step (each client sends its next
// message when its own copy came back through the whole path), the loaders' receipts merged, and
// the raw broker ceiling (W5): raw amqplib confirms into a fresh quorum queue, window 1,000.
import { SnowflakeGenerator } from '@chat/router';
import type { ChildHandle } from '../lib/child.js';
import { type LoaderReport, type MergedStep, mergeReports } from '../lib/loader-reports.js';
import { type RawConfirmResult, rawQuorumConfirm } from '../lib/raw-confirm.js';
import { waitForQuiet } from '../lib/system.js';
import type { W1Stack } from './stack.js';

export type LoadMode = 'open' | 'closed';

export interface LoadRun {
  sent: number;
  ms: number;
  /** Open loop: how far the pacing timer fell behind, at most. */
  maxBehind?: number;
}

/**
 * Starts tracking a new step (tag, start time) on every loader; `bySendSecond`: also latency by the
 * second each message was sent in (lib/receipts.ts).
 */
export async function track(
  loadgens: readonly ChildHandle[],
  tag: string,
  t0: number,
  bySendSecond = false,
): Promise<void> {
  await Promise.all(loadgens.map((lg) => lg.call('track', { tag, t0, bySendSecond })));
}

/** Sends for `durationS`: open loop at `rate` msg/s in total, or closed loop (rate unused). */
export function generate(
  loadgens: readonly ChildHandle[],
  mode: LoadMode,
  tag: string,
  rate: number,
  durationS: number,
): Promise<LoadRun[]> {
  const timeoutMs = durationS * 1000 + 60_000;
  return Promise.all(
    loadgens.map((lg, g) =>
      mode === 'open'
        ? lg.call<LoadRun>('run', { tag, rate: rate / loadgens.length, durationMs: durationS * 1000, lg: g }, timeoutMs)
        : lg.call<LoadRun>('closedLoop', { tag, durationMs: durationS * 1000, lg: g, on: 'echo' }, timeoutMs),
    ),
  );
}

/** Open loop through `phases` back to back (each an aggregate rate for some seconds), in one step. */
export function generatePhases(
  loadgens: readonly ChildHandle[],
  phases: ReadonlyArray<{ rate: number; durationS: number }>,
): Promise<LoadRun[]> {
  const totalS = phases.reduce((s, p) => s + p.durationS, 0);
  const perLoader = phases.map((p) => ({ rate: p.rate / loadgens.length, durationMs: p.durationS * 1000 }));
  return Promise.all(
    loadgens.map((lg, g) => lg.call<LoadRun>('run', { phases: perLoader, lg: g }, totalS * 1000 + 60_000)),
  );
}

/** The loaders' receipts so far, merged; `windowS` bounds the "delivered during the window" count. */
export async function receipts(loadgens: readonly ChildHandle[], windowS: number): Promise<MergedStep> {
  return mergeReports(await Promise.all(loadgens.map((lg) => lg.call<LoaderReport>('report', {}, 60_000))), windowS);
}

/** Requests sent in the current step that the gateways have not answered yet. */
export async function unanswered(loadgens: readonly ChildHandle[]): Promise<number> {
  const p = await Promise.all(loadgens.map((lg) => lg.call<{ sent: number; answered: number }>('progress')));
  return p.reduce((n, x) => n + x.sent - x.answered, 0);
}

/**
 * The broker ceiling: `messages` message.create envelopes like the gateways write (~100-byte content)
 * through raw amqplib into a fresh quorum queue; fails when a confirmed message is missing.
 */
export function rawCeiling(stack: W1Stack): (messages: number) => Promise<RawConfirmResult> {
  const sample = JSON.stringify({
    v: 1,
    type: 'message.create',
    id: '264905529753620487',
    channel_id: stack.channelIds[0],
    author: { id: stack.users[0]!.id, username: stack.users[0]!.username },
    content: ''.padEnd(100, 'x'),
    timestamp: new Date().toISOString(),
  });
  const ids = new SnowflakeGenerator({ workerId: 1022 });
  return async (messages) => {
    const bodies = Array.from({ length: messages }, () => {
      const b = JSON.parse(sample) as { id: string };
      b.id = ids.nextSync();
      return Buffer.from(JSON.stringify(b));
    });
    await waitForQuiet(stack.procs, 60_000);
    const r = await rawQuorumConfirm(stack.broker, `${stack.prefix}.raw`, bodies, 1000, stack.procs, 180_000);
    if (r.stored !== r.messages) throw new Error(`raw: ${r.stored} of ${r.messages} confirmed messages in the queue`);
    return r;
  };
}
