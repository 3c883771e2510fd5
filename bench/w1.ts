// docs/benchmarks.md W1 — direct messages through the whole system: 2 gateway processes, a persister,
// the MongoDB stand-in, N = 1,000 WebSocket clients (u0..u999, half on each gateway, connected to
// its port directly) in two load-generator processes. A timer sends message.create on DM channels
// at an aggregate rate R (open loop) from random clients; every recipient records send → receive
// latency. Sweep R; report delivered msg/s, p50/p99/max, loss, duplicates and CPU per process.
// W5 in the same run as the reference: raw quorum-queue confirms (the broker ceiling) and the whole
// path flat out (closed loop: each client's next message waits for the previous one's echo through
// the whole path, so 1,000 are outstanding end to end — the same window as the raw run).
// Then the overload steps (2× and 4× the knee): what the gateways refuse (`overloaded`), goodput,
// and that nothing acked is lost — accounting in lib/overload.ts.
// The parts, one concept per file: w1/stack.ts (starting the system), w1/load.ts (load generation and
// the raw ceiling), w1/measure.ts (one measured step, the target the knee is judged by), w1/breakdown.ts
// (the services' own metrics), w1/report.ts (tables, notes, the saved result).
import { amqpUrl } from '@chat/testkit';
import { kneeOf } from './lib/overload.js';
import type { RawConfirmResult } from './lib/raw-confirm.js';
import { defineScenario, type ScenarioOutcome } from './lib/scenario.js';
import { STAND_IN_NOTE } from './lib/services.js';
import { printSystem } from './lib/system.js';
import { fmt, pct } from './lib/table.js';
import { rawCeiling } from './w1/load.js';
import { DRAIN_LIMIT_MS, measureStep, meets, type StepResult } from './w1/measure.js';
import { measureRecovery, type RecoveryResult } from './w1/recovery.js';
import { report, stepsInRunOrder } from './w1/report.js';
import { W1Stack } from './w1/stack.js';

const scenario = defineScenario({
  name: 'w1',
  summary:
    'W1: DMs through the whole system (2 gateways, persister, 1,000 clients): rate sweep, overload steps, W5 closed loop vs raw ceiling',
  flags: {
    rates: {
      type: 'ints',
      default: [1000, 2000, 4000, 8000, 16000],
      min: 10,
      max: 100_000,
      help: 'aggregate DM rates of the sweep, msg/s',
    },
    'duration-s': { type: 'int', default: 15, min: 2, max: 120, help: 'seconds per rate' },
    clients: { type: 'int', default: 1000, min: 4, max: 10_000, help: 'WebSocket clients (users), half per gateway' },
    partners: { type: 'int', default: 4, min: 1, max: 32, help: 'rounds of random pairing: up to K DM partners each' },
    'closed-s': { type: 'int', default: 15, min: 3, max: 120, help: 'seconds of the W5 closed loop' },
    'raw-messages': { type: 'int', default: 50_000, min: 1000, max: 1_000_000, help: 'messages per raw-ceiling run' },
    knee: {
      type: 'int',
      min: 10,
      max: 100_000,
      help: 'the rate the overload steps multiply (2×, 4×); default: the highest R of the sweep that met the target',
    },
    'no-overload': { type: 'boolean', help: 'skip the overload steps (and the recovery step)' },
    'recovery-s': {
      type: 'int',
      default: 10,
      min: 0,
      max: 120,
      help: 'seconds at the knee right after a step at 4× the knee, latency by send second (0: no recovery step)',
    },
    'cold-s': {
      type: 'int',
      default: 10,
      min: 0,
      max: 120,
      help: 'seconds of the cold-start step (0: none): the first sweep rate right after the clients connected, before anything warmed the caches; compared with the same rate warm',
    },
  },
  quick: { rates: [500, 1000], 'duration-s': 5, clients: 200, 'closed-s': 5, 'raw-messages': 10_000, 'recovery-s': 5 },
  limitMinutes: 40,
});
const { rates: RATES, 'duration-s': DURATION_S, clients: CLIENTS } = scenario.flags;
const BROKER = amqpUrl();

async function main(): Promise<ScenarioOutcome> {
  const system = (await printSystem(BROKER)).line;
  console.log(`Note: ${STAND_IN_NOTE}`);
  const stack = new W1Stack(BROKER);
  try {
    await stack.start(CLIENTS, scenario.flags.partners);
    const rawRun = rawCeiling(stack);
    const raws: RawConfirmResult[] = [];

    // Cold start: fresh gateways, persister and caches, clients just connected. It also warms up what
    // the rest of the run measures warm; without it, an unreported warm-up does.
    const coldS = scenario.flags['cold-s'];
    let cold: StepResult | null = null;
    if (coldS > 0) {
      console.log(`cold start: ${coldS} s at ${RATES[0]} msg/s right after the clients connected`);
      cold = await measureStep(stack, 'open', 'cold', RATES[0]!, coldS, true);
      console.log(
        `  delivered ${fmt(cold.deliveredPerSec)}/s, p50 ${fmt(cold.latency.p50Ms)} ms p99 ${fmt(cold.latency.p99Ms)} ms`,
      );
    } else {
      console.log('warm-up: 5 s at 1,000 msg/s (fills the membership cache), not reported');
      await measureStep(stack, 'open', 'warm', 1000, 5);
    }

    const rawMessages = scenario.flags['raw-messages'];
    console.log(
      `W5 broker ceiling: raw amqplib confirms, window 1,000, ${rawMessages} messages into a fresh quorum queue`,
    );
    raws.push(await rawRun(rawMessages));
    console.log(`  ${fmt(raws[0]!.perSec)} msg/s`);

    const closedS = scenario.flags['closed-s'];
    console.log(
      `W5 whole path: closed loop, each of ${CLIENTS} clients sends its next message when its own copy came back through the whole path, ${closedS} s`,
    );
    const closed = await measureStep(stack, 'closed', 'closed', 0, closedS);
    console.log(`  delivered ${fmt(closed.deliveredPerSec)}/s, p99 ${fmt(closed.latency.p99Ms)} ms`);
    raws.push(await rawRun(rawMessages));
    console.log(`  raw ceiling again: ${fmt(raws[1]!.perSec)} msg/s`);

    console.log(`W1 sweep: ${RATES.join(', ')} msg/s, ${DURATION_S} s each`);
    const sweep: StepResult[] = [];
    for (const rate of RATES) {
      const r = await measureStep(stack, 'open', `r${rate}`, rate, DURATION_S);
      sweep.push(r);
      console.log(
        `  R ${String(rate).padStart(6)}: sent ${fmt(r.sentPerSec)}/s delivered ${fmt(r.deliveredPerSec)}/s  p50 ${fmt(r.latency.p50Ms)} ms ` +
          `p99 ${fmt(r.latency.p99Ms)} ms max ${fmt(r.latency.maxMs)} ms  lost ${r.lost}  dup ${r.messagesWithDuplicates}  ` +
          `gw ${pct(r.cpu.percent.gw0)}/${pct(r.cpu.percent.gw1)} persister ${pct(r.cpu.percent.persister)} broker ${pct(r.cpu.percent.broker)}` +
          `${r.purged ? `  (backlog purged after ${DRAIN_LIMIT_MS / 1000} s)` : ` (drained in ${fmt(r.drainedS)} s)`}` +
          `${r.unansweredAfterDrain > 0 ? `  ${r.unansweredAfterDrain} requests still unanswered in the gateways` : ''}`,
      );
    }

    // Overload: 2× and 4× the knee (the highest R that met the target, or --knee).
    const overload = !scenario.flags['no-overload'];
    const { knee, from: kneeFrom } = kneeOf(
      scenario.flags.knee,
      sweep.map((s) => ({ rate: s.rate, ok: meets(s) })),
    );
    const overloadSteps: StepResult[] = [];
    if (overload && knee !== undefined) {
      console.log(`Overload: 2× and 4× the knee (${fmt(knee)} msg/s, from ${kneeFrom}), ${DURATION_S} s each`);
      for (const factor of [2, 4]) {
        const r = await measureStep(stack, 'open', `o${factor}x`, knee * factor, DURATION_S);
        overloadSteps.push(r);
        const sh = r.shedding;
        console.log(
          `  ${factor}× (${fmt(r.rate)} msg/s): acked ${fmt(sh.acked / DURATION_S)}/s refused ${fmt(sh.refused / DURATION_S)}/s ` +
            `goodput ${fmt(sh.ackedDelivered / DURATION_S)}/s acked-lost ${sh.ackedLost} other errors ${sh.otherErrors} ` +
            `p99 ${fmt(r.latency.p99Ms)} ms dup ${r.messagesWithDuplicates}`,
        );
      }
    } else if (overload) console.log(`Overload steps skipped: ${kneeFrom}`);

    // Recovery: 4× the knee, then at once the knee; when is latency back under the target?
    const recoveryS = scenario.flags['recovery-s'];
    let recovery: RecoveryResult | null = null;
    if (overload && knee !== undefined && recoveryS > 0) {
      console.log(`Recovery: ${DURATION_S} s at 4× the knee, then ${recoveryS} s at the knee, one step`);
      recovery = await measureRecovery(stack, knee, 4, DURATION_S, recoveryS);
      console.log(
        `  back under p99 100 ms: ${recovery.firstUnderS === null ? 'not within the step' : `${recovery.firstUnderS} s after the overload ended (stayed under from ${recovery.recoveredAfterS ?? '—'} s)`}`,
      );
    }

    const results = report(
      {
        config: {
          rates: RATES,
          durationS: DURATION_S,
          clients: CLIENTS,
          partners: scenario.flags.partners,
          closedS,
          rawMessages,
          overload,
          coldS,
          quick: scenario.quick,
        },
        raws,
        cold,
        closed,
        sweep,
        overloadSteps,
        recovery,
        knee,
        kneeFrom,
        dmChannels: stack.pairs.length,
        ...stack.placement(),
        logged: stack.logged(),
      },
      system,
    );
    // One line for scripts and smoke tests (the shape bench/test/run-scenario.ts reads): figures, not text.
    console.log(
      `W1-SUMMARY ${JSON.stringify({
        steps: stepsInRunOrder({ cold, closed, sweep, overloadSteps }).map((s) => ({
          tag: s.tag,
          rate: s.rate,
          sent: s.sent,
          received: s.received,
          lost: s.lost,
          refused: s.shedding.refused,
          ackedLost: s.shedding.ackedLost,
          messagesWithDuplicates: s.messagesWithDuplicates,
          p99Ms: s.latency.p99Ms,
        })),
        recovery: recovery && {
          knee: recovery.knee,
          seconds: recovery.seconds.map((x) => ({ phase: x.phase, count: x.latency.count, p99Ms: x.latency.p99Ms })),
          sent: recovery.sent,
          refused: recovery.refused,
          received: recovery.received,
          firstUnderS: recovery.firstUnderS,
          recoveredAfterS: recovery.recoveredAfterS,
        },
      })}`,
    );
    return { code: 0, results };
  } finally {
    await stack.stop();
  }
}

scenario.run(main);
