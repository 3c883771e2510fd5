// W1's recovery step (issue #8 item 4: "within 5 s after the overload ends latency is back to
// normal"): one open-loop step that offers `factor` × the knee for some seconds and then, without a
// pause or a drain, the knee itself; the loaders record each message's latency by the second it was
// SENT in, so the table shows second by second when latency came back, counted from the moment the
// overload ended: the first whole second whose messages had p99 < TARGET_P99_MS (the knee's own
// criterion), and the second from which every later one stays under it (at a knee whose own p99 is
// close to the target, single seconds cross it either way: the table shows them).
import { type LoaderReport, mergeReports } from '../lib/loader-reports.js';
import { epochMs, type LatencySummary, sleep } from '../lib/stats.js';
import { waitForQuiet } from '../lib/system.js';
import { fmt, formatTable } from '../lib/table.js';
import { generatePhases, track } from './load.js';
import { GRACE_MS, TARGET_P99_MS, waitDrained } from './measure.js';
import type { W1Stack } from './stack.js';

export interface RecoveryResult {
  knee: number;
  factor: number;
  overloadS: number;
  recoveryS: number;
  /** Per send second since the step began: the phase it belongs to and the latency of its messages. */
  seconds: Array<{ s: number; phase: 'overload' | 'knee'; latency: LatencySummary }>;
  /** Seconds after the overload ended until the first second with p99 under the target; null: none. */
  firstUnderS: number | null;
  /** Seconds after the overload ended from which every second stays under the target; null: never. */
  recoveredAfterS: number | null;
  /** Sent, refused (`overloaded`) and received (unique, by the end of the grace period) in the whole step. */
  sent: number;
  refused: number;
  received: number;
  purged: boolean;
}

const underTarget = (x: RecoveryResult['seconds'][number]) => x.latency.count > 0 && x.latency.p99Ms < TARGET_P99_MS;

/** The first knee-phase second (counted from the end of the overload) with p99 under the target, or null. */
function firstUnder(seconds: RecoveryResult['seconds'], overloadS: number): number | null {
  const x = seconds.find((y) => y.phase === 'knee' && underTarget(y));
  return x ? x.s - overloadS : null;
}

/**
 * The second (counted from the end of the overload) from which every knee-phase second has p99 under
 * the target and holds messages; null when the last one does not. A second without messages (nothing
 * delivered yet) counts as not recovered.
 */
function recoveredAfter(seconds: RecoveryResult['seconds'], overloadS: number): number | null {
  const knee = seconds.filter((x) => x.phase === 'knee');
  let from: number | null = null;
  for (const x of knee) {
    if (!underTarget(x)) from = null;
    else from ??= x.s - overloadS;
  }
  return from;
}

/** Runs the step (see the header) and drains it like every W1 step. */
export async function measureRecovery(
  stack: W1Stack,
  knee: number,
  factor: number,
  overloadS: number,
  recoveryS: number,
): Promise<RecoveryResult> {
  const { loadgens, procs } = stack;
  await waitForQuiet(procs, 60_000);
  await track(loadgens, `rec${factor}x`, epochMs(), true);
  await generatePhases(loadgens, [
    { rate: knee * factor, durationS: overloadS },
    { rate: knee, durationS: recoveryS },
  ]);
  await sleep(GRACE_MS);
  const reports = await Promise.all(loadgens.map((lg) => lg.call<LoaderReport>('report', {}, 60_000)));
  const { purged } = await waitDrained(stack);
  const merged = mergeReports(reports, overloadS + recoveryS);
  // The last second may be cut short by the end of the send window: only whole seconds are judged.
  const bySecond = merged.bySendSecond;
  const none: LatencySummary = { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  const seconds = Array.from({ length: overloadS + recoveryS }, (_, s) => ({
    s,
    phase: s < overloadS ? ('overload' as const) : ('knee' as const),
    latency: bySecond[s] ?? none,
  }));
  return {
    knee,
    factor,
    overloadS,
    recoveryS,
    seconds,
    firstUnderS: firstUnder(seconds, overloadS),
    recoveredAfterS: recoveredAfter(seconds, overloadS),
    sent: merged.sent,
    refused: merged.shedding.refused,
    received: merged.unique,
    purged,
  };
}

/** The step second by second. */
export function recoveryTable(r: RecoveryResult): string {
  return formatTable(
    ['send second', 'offered msg/s', 'delivered msgs', 'p50 ms', 'p99 ms', 'max ms', `p99 < ${TARGET_P99_MS}`],
    r.seconds.map((x) => [
      x.phase === 'overload' ? `${x.s} (overload)` : `${x.s} (${x.s - r.overloadS}–${x.s - r.overloadS + 1} s after)`,
      fmt(x.phase === 'overload' ? r.knee * r.factor : r.knee),
      x.latency.count,
      x.latency.p50Ms,
      x.latency.p99Ms,
      x.latency.maxMs,
      underTarget(x) ? 'yes' : 'NO',
    ]),
  );
}

/** One line for the notes; `kneeP99Ms`: the knee step's own p99 in the sweep, when it ran. */
export function recoveryNote(r: RecoveryResult, kneeP99Ms?: number): string {
  const over = r.seconds.filter((x) => x.phase === 'knee' && !underTarget(x));
  const when =
    r.firstUnderS === null
      ? `latency was **not** back under p99 ${TARGET_P99_MS} ms in any second of the ${r.recoveryS} s at the knee`
      : `the messages sent ${r.firstUnderS}–${r.firstUnderS + 1} s after the overload ended were the first with p99 < ${TARGET_P99_MS} ms (**${r.firstUnderS < 5 ? 'within' : 'NOT within'} 5 s**); ` +
        (r.recoveredAfterS === null
          ? 'the last second was over it again'
          : `every second from ${r.recoveredAfterS} s after on stayed under it`) +
        ` (${over.length} of the ${r.recoveryS} knee seconds over it: ${over.map((x) => `${fmt(x.latency.p99Ms)} ms`).join(', ') || 'none'}` +
        `${kneeP99Ms === undefined ? '' : `; the knee step of the sweep had p99 ${fmt(kneeP99Ms)} ms over its whole window`})`;
  return (
    `Recovery (issue #8 item 4): ${r.overloadS} s at ${r.factor}× the knee (${fmt(r.knee * r.factor)} msg/s; ${fmt(r.refused)} refused \`overloaded\`), then at once ${r.recoveryS} s at the knee (${fmt(r.knee)} msg/s), one step, no drain between: ${when}. ` +
    `Latency by the second each message was sent in (first copy at the recipient), whole seconds only${r.purged ? '; the backlog left after the step was purged' : ''}.`
  );
}
