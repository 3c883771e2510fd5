// W1's report: the tables (sweep and W5, overload, where the time went, broker messages per message,
// CPU per process, µs of CPU per delivered message, run-queue delay, W5 vs the broker ceiling), the
// notes that say how to read them, and the result saved as bench/results/w1.md + w1-<time>.json.
import { cpuPerDeliveredTable, overloadTable, usPerMessage } from '../lib/overload.js';
import type { RawConfirmResult } from '../lib/raw-confirm.js';
import type { ScenarioOutcome } from '../lib/scenario.js';
import { STAND_IN_NOTE } from '../lib/services.js';
import { otherLoadNote } from '../lib/system.js';
import { fmt, formatTable, pct, ratio } from '../lib/table.js';
import { DRAIN_LIMIT_MS, GRACE_MS, meets, type StepResult, TARGET_P99_MS } from './measure.js';
import { type RecoveryResult, recoveryNote, recoveryTable } from './recovery.js';

/** The processes of the per-process scheduler tables, and their column headings. */
const PROCESSES = ['gw0', 'gw1', 'persister', 'standIn', 'broker', 'redis', 'lg0', 'lg1'] as const;
const PROCESS_HEADINGS = ['gw0', 'gw1', 'persister', 'stand-in', 'broker', 'redis', 'lg0', 'lg1'];

export interface W1Config {
  rates: number[];
  durationS: number;
  clients: number;
  partners: number;
  closedS: number;
  rawMessages: number;
  overload: boolean;
  /** Seconds of the cold-start step (0: none, an unreported warm-up instead). */
  coldS: number;
  quick: boolean;
}

/** Everything a W1 run measured, in the order it ran. */
export interface W1Run {
  config: W1Config;
  /** The raw broker ceiling, before and after the closed loop. */
  raws: RawConfirmResult[];
  /** The first sweep rate right after the clients connected, before anything warmed up (null: not run). */
  cold: StepResult | null;
  /** W5: the whole path, closed loop. */
  closed: StepResult;
  /** The open-loop sweep, ascending R. */
  sweep: StepResult[];
  /** 2× and 4× the knee (empty when not run). */
  overloadSteps: StepResult[];
  /** 4× the knee, then the knee: latency by send second (null when not run). */
  recovery: RecoveryResult | null;
  knee: number | undefined;
  /** Where the knee came from (--knee, the sweep), or why there is none. */
  kneeFrom: string;
  dmChannels: number;
  crossGateway: number;
  sameGwTwoPartitions: number;
  /** Warnings each service logged, by message. */
  logged: Record<string, Record<string, number>>;
}

/** Every measured step in the order it ran: cold start, W5 closed loop, the sweep, the overload steps. */
export function stepsInRunOrder(run: Pick<W1Run, 'cold' | 'closed' | 'sweep' | 'overloadSteps'>): StepResult[] {
  return [...(run.cold ? [run.cold] : []), run.closed, ...run.sweep, ...run.overloadSteps];
}

/** Prints the tables and notes and hands back the result to save. */
export function report(run: W1Run, system: string): NonNullable<ScenarioOutcome['results']> {
  const {
    raws,
    cold,
    closed,
    sweep,
    overloadSteps,
    recovery,
    knee,
    kneeFrom,
    dmChannels,
    crossGateway,
    sameGwTwoPartitions,
    logged,
  } = run;
  const {
    rates: RATES,
    durationS: DURATION_S,
    clients: CLIENTS,
    partners: PARTNERS,
    closedS: CLOSED_S,
    rawMessages: RAW_MESSAGES,
    overload: OVERLOAD,
    quick,
  } = run.config;
  const steps = stepsInRunOrder(run);
  const notes: string[] = [];
  const label = (s: StepResult) =>
    s.mode === 'closed'
      ? 'closed loop (W5)'
      : s.tag === 'cold'
        ? `cold start (${fmt(s.rate)})`
        : s.tag.startsWith('o')
          ? `${s.tag.slice(1)} knee (${fmt(s.rate)})`
          : s.rate;

  const loggedNote = Object.entries(logged)
    .filter(([, w]) => Object.keys(w).length > 0)
    .map(
      ([name, w]) =>
        `${name}: ${Object.entries(w)
          .map(([m, n]) => `“${m}” ×${n}`)
          .join(', ')}`,
    )
    .join('; ');
  const open = sweep;
  const ok = open.filter(meets);
  const best = ok.length > 0 ? Math.max(...ok.map((s) => s.rate)) : undefined;
  const sweepTable = formatTable(
    [
      'R msg/s',
      'sent/s',
      'delivered/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'sent',
      'lost',
      'refused',
      'other errors',
      'dup msgs',
      'confirm p99 ms',
      'persister stored/s',
      'max persist lag',
      'p99<100, no loss, none refused',
      'drain s',
    ],
    steps.map((s) => [
      label(s),
      s.sentPerSec,
      s.deliveredPerSec,
      s.latency.p50Ms,
      s.latency.p99Ms,
      s.latency.maxMs,
      s.sent,
      s.lost,
      s.shedding.refused,
      s.shedding.otherErrors,
      s.messagesWithDuplicates,
      s.confirmLatency.p99Ms,
      s.storedPerSec,
      s.maxPersistDepth,
      s.mode === 'open' && !s.tag.startsWith('o') ? meets(s) : '—',
      s.purged ? 'purged' : s.drainedS,
    ]),
  );
  const cpuTable = formatTable(
    [
      'R msg/s',
      'gw0',
      'gw1',
      'persister',
      'stand-in',
      'broker',
      'redis',
      'lg0',
      'lg1',
      'bench',
      'all measured',
      'other CPU',
    ],
    steps.map((s) => {
      const p = s.cpu.percent;
      const sum = Object.values(p).reduce<number>((a, b) => a + (b ?? 0), 0);
      return [
        label(s),
        pct(p.gw0),
        pct(p.gw1),
        pct(p.persister),
        pct(p.standIn),
        pct(p.broker),
        pct(p.redis),
        pct(p.lg0),
        pct(p.lg1),
        pct(p.bench),
        pct(sum),
        pct(s.cpu.others),
      ];
    }),
  );
  const timeTable = formatTable(
    [
      'R msg/s',
      'gw request mean ms',
      'gw request p99 ms',
      'gw confirm mean ms',
      'gw confirm p99 ms',
      'persister loop mean ms',
      'loop p99 ms',
      'insert mean ms',
      'dispatch mean ms',
      'mean batch',
      'busy s/s',
      'envelopes / msg',
      'dropped copies / msg',
      'frames / msg',
    ],
    steps.map((s) => {
      const b = s.breakdown;
      return [
        label(s),
        b.requestMeanMs,
        b.requestP99Ms,
        b.confirmMeanMs,
        b.confirmP99Ms,
        b.loopMeanMs,
        b.loopP99Ms,
        b.insertMeanMs,
        b.dispatchMeanMs,
        b.meanBatch,
        b.busyPerSec,
        b.envelopesPerMessage,
        b.droppedCopiesPerMessage,
        b.deliveriesPerMessage,
      ];
    }),
  );
  const rqTable = formatTable(
    ['R msg/s', ...PROCESS_HEADINGS],
    steps.map((s) => [label(s), ...PROCESSES.map((n) => pct(s.runQueue[n]))]),
  );
  const slicesTable = formatTable(
    ['R msg/s', ...PROCESS_HEADINGS, 'sum'],
    steps.map((s) => {
      const per = PROCESSES.map((n) => {
        const v = s.slicesPerSec[n];
        return v === undefined || s.deliveredPerSec === 0 ? undefined : v / s.deliveredPerSec;
      });
      return [
        label(s),
        ...per.map((v) => (v === undefined ? '—' : fmt(v))),
        fmt(per.reduce<number>((a, b) => a + (b ?? 0), 0)),
      ];
    }),
  );
  const rawMean = raws.reduce((a, r) => a + r.perSec, 0) / raws.length;
  const bestDelivered = Math.max(...steps.map((s) => s.deliveredPerSec));
  const w5Table = formatTable(
    ['measure', 'msg/s', 'vs ceiling', 'p50 ms', 'p99 ms', 'bench CPU', 'broker CPU', 'other CPU'],
    [
      ...raws.map((r, i) => [
        `raw confirm into a quorum queue, window 1,000 (${i === 0 ? 'before' : 'after'} the closed loop)`,
        r.perSec,
        ratio(r.perSec, rawMean),
        r.latency.p50Ms,
        r.latency.p99Ms,
        pct(r.cpu.percent.bench),
        pct(r.cpu.percent.broker),
        pct(r.cpu.others),
      ]),
      [
        `whole path, closed loop (${CLIENTS} outstanding until echoed): WebSocket → confirm → stored → delivered`,
        closed.deliveredPerSec,
        ratio(closed.deliveredPerSec, rawMean),
        closed.latency.p50Ms,
        closed.latency.p99Ms,
        pct(closed.cpu.percent.bench),
        pct(closed.cpu.percent.broker),
        pct(closed.cpu.others),
      ],
      [
        'whole path, best delivered/s of the open-loop sweep',
        Math.max(...open.map((s) => s.deliveredPerSec)),
        ratio(Math.max(...open.map((s) => s.deliveredPerSec)), rawMean),
        '—',
        '—',
        '—',
        '—',
        '—',
      ],
    ],
  );
  const kneeStep = sweep.find((s) => s.rate === knee);
  const shedTable =
    knee !== undefined && overloadSteps.length > 0
      ? overloadTable([...(kneeStep ? [kneeStep] : []), ...overloadSteps], knee)
      : undefined;
  const brokerTable = formatTable(
    [
      'R msg/s',
      'persist publishes / msg',
      'persist deliveries / msg',
      'dispatch publishes / msg',
      'gateway deliveries / msg',
      'broker messages / msg',
    ],
    steps.map((s) => {
      const b = s.breakdown;
      return [
        label(s),
        b.persistPublishesPerMessage,
        b.persistDeliveriesPerMessage,
        b.dispatchPublishesPerMessage,
        b.gatewayDeliveriesPerMessage,
        b.persistPublishesPerMessage +
          b.persistDeliveriesPerMessage +
          b.dispatchPublishesPerMessage +
          b.gatewayDeliveriesPerMessage,
      ];
    }),
  );
  const cpuPerMsgTable = cpuPerDeliveredTable(
    steps.map((s) => ({ label: String(label(s)), deliveredPerSec: s.deliveredPerSec, cpu: s.cpu })),
  );
  console.log(
    `\n${sweepTable}\n\n${shedTable ? `${shedTable}\n\n` : ''}${recovery ? `${recoveryTable(recovery)}\n\n` : ''}${timeTable}\n\n${brokerTable}\n\n${cpuTable}\n\n${cpuPerMsgTable}\n\n${rqTable}\n\n${slicesTable}\n\n${w5Table}\n`,
  );
  notes.push(
    best !== undefined
      ? `Highest R with p99 < ${TARGET_P99_MS} ms, zero loss and nothing refused: **${fmt(best)} msg/s**.`
      : `No R met p99 < ${TARGET_P99_MS} ms with zero loss and nothing refused.`,
    knee !== undefined && overloadSteps.length > 0
      ? `Overload steps at 2× and 4× the knee ${fmt(knee)} msg/s (from ${kneeFrom}): refused = RESPONSE error \`overloaded\` (the gateway shed the write, nothing stored; the loaders never retry: the benchmark measures shedding); ` +
          'acked-lost = acked and never received, judged after the drain (queues empty; must be 0 unless the step says purged); acked, late = delivered only after the grace period; goodput = messages acked AND delivered (by the end of the grace period) / send window; p99 is over delivered messages only. ' +
          'µs CPU per delivered message = CPU % of one core of the process / 100 × 10⁶ / delivered per second, over the send window.'
      : `Overload steps not run (${OVERLOAD ? kneeFrom : '--no-overload'}).`,
    ...(recovery ? [recoveryNote(recovery, kneeStep?.latency.p99Ms)] : []),
    ...(cold
      ? [
          (() => {
            const warm = sweep.find((x) => x.rate === cold.rate);
            return `Cold start (issue #8 item 5): ${fmt(cold.rate)} msg/s right after ${CLIENTS} clients connected to fresh gateways (empty membership cache, stand-in never queried for these channels): p50 ${fmt(cold.latency.p50Ms)} ms, p99 ${fmt(cold.latency.p99Ms)} ms, ${meets(cold) ? 'meets' : 'misses'} the target${warm ? `; the same rate warm, later in the run: p50 ${fmt(warm.latency.p50Ms)} ms, p99 ${fmt(warm.latency.p99Ms)} ms` : ''}.${
              cold.bySendSecond.length > 0
                ? ` p99 by the second the messages were sent in: ${cold.bySendSecond.map((x) => fmt(x.p99Ms)).join(' / ')} ms.`
                : ''
            }`;
          })(),
        ]
      : []),
    brokerRatioNote(raws, sweep),
    `W5: whole path (closed loop) / broker ceiling = ${ratio(closed.deliveredPerSec, rawMean)} (ceiling = mean of the two raw runs, ${fmt(rawMean)} msg/s); best delivered/s of the whole run ${fmt(bestDelivered)}.`,
    `Latency = send (loader clock) → MESSAGE_CREATE frame at the recipient's socket (other loader process; same machine clock), every message, HDR. ` +
      `lost = sent, not refused, and not received by the recipient ${GRACE_MS / 1000} s after the run; refused = \`overloaded\` answers; other errors = the other RESPONSE errors (codes seen: ${
        [...new Set(steps.flatMap((s) => Object.keys(s.responseErrors)))].join(', ') || 'none'
      }). delivered/s = unique receipts during the send window / its length.`,
    `dup msgs = messages a recipient received more than once. A DM is published once per partition of its members' slots (here ${fmt(crossGateway * 100, 0)}% of the ${dmChannels} DM pairs span the two gateways, ` +
      `${fmt(sameGwTwoPartitions * 100, 0)}% have both members on one gateway in different partitions); since commit 7b0607b the gateway's router hands a dispatch to the gateway once per id, before it every extra copy reached the sockets.`,
    `${CLIENTS} clients, ${dmChannels} DM channels (${PARTNERS} rounds of random pairing: each user has up to ${PARTNERS} DM partners); each send picks a random ` +
      `client of the loader and one of its DM channels. ~100-byte contents. Loaders: raw \`ws\` clients with a zero masking key (lib/loadgen-socket-options.ts), one process per gateway (127.0.0.21/22), paced by a 5 ms timer.`,
    'Gateways run with their defaults except the abuse limits (RATE_FRAMES/RATE_BURST/USER_RATE_REQUESTS/HTTP_RATE_REQUESTS raised: they would throttle the benchmark; the per-address socket caps and sign-up/login budgets raised, since every client comes from two loopback addresses — bench/lib/services.ts BENCH_GATEWAY_CAPS; SCRYPT_LOG_N=10 for the sign-ups) and DEFAULT_GROUP off; the persister with its defaults (packages/persister/README.md).',
    `Drain: after each step the run waits until the gateways have answered every request of the step and the persist queue and both gateway queues are empty — ready and unacknowledged messages both, so what the persister and the gateways hold prefetched counts (rabbitmqctl list_queues messages; before 2026-12-02 only ready ones counted, so a backlog held by a slow persister showed as acked-lost) — (≤ ${DRAIN_LIMIT_MS / 1000} s; a queue backlog left then is purged, and the step says so), so steps do not overlap. Order: ${cold ? `cold start (${cold.durationS} s at the first rate right after the clients connected; it warms the caches for what follows)` : 'warm-up (5 s, unreported)'}, raw ceiling, W5 closed loop, raw ceiling again, then the sweep (ascending), so that the overloaded steps cannot disturb W5.`,
    ...steps
      .filter((s) => s.unansweredAfterDrain > 0)
      .map(
        (s) =>
          `R ${fmt(s.rate)}: ${fmt(s.unansweredAfterDrain)} requests were still unanswered by the gateways ${DRAIN_LIMIT_MS / 1000} s after the step; they overlap the next step.`,
      ),
    'CPU columns: % of one core over the send window; the machine has 2 cores (200%). "all measured" sums the processes of the run plus the broker and Redis. ' +
      'Run-queue delay (/proc/<pid>/task/*/schedstat) is the time a process was ready to run and had no core: at "all measured" ≈ 200% every process is rationed, whatever its CPU% says. ' +
      'Times on a CPU (the third field of schedstat, summed over threads) count every wake-up and every return after a preemption; each costs a fixed price whatever work follows (50–200 µs of CPU for an idle Node process on this kind of machine, more the longer it slept: bench/tools/wake-cost.ts), so at light load slices per message explain much of the µs per message.',
    `Warnings the services logged during the run (pino level ≥ warn; most are rate-limited to one per 10 s): ${loggedNote || 'none'}.`,
    STAND_IN_NOTE,
    otherLoadNote(steps.map((s) => s.cpu)),
  );
  if (DURATION_S !== 15) notes.push(`Duration reduced to ${DURATION_S} s per rate (docs/benchmarks.md says 15 s).`);
  for (const n of notes) console.log(`- ${n}`);

  return {
    title: 'W1 — direct messages through the whole system (with W5 as the reference)',
    description:
      '2 gateway processes, a persister, 1,000 WebSocket clients (u0..u999, half on each gateway) in two loader processes; ' +
      'DMs paced at an aggregate rate R; send → receive latency of every message, loss, duplicates, CPU per process. ' +
      'W5 in the same run: raw quorum-queue confirms (broker ceiling) and the whole path flat out. ' +
      '**MongoDB is the in-memory stand-in, not MongoDB.**',
    system,
    params: {
      rates: RATES,
      durationS: DURATION_S,
      clients: CLIENTS,
      partners: PARTNERS,
      dmChannels,
      closedS: CLOSED_S,
      rawMessages: RAW_MESSAGES,
      graceMs: GRACE_MS,
      store: 'MongoDB stand-in (testkit, in memory)',
      quick,
    },
    tables: [
      { heading: 'W1 sweep (open loop) and W5 closed loop', markdown: sweepTable },
      ...(shedTable ? [{ heading: 'Overload: 2× and 4× the knee', markdown: shedTable }] : []),
      ...(recovery
        ? [
            {
              heading: `Recovery: ${recovery.factor}× the knee, then the knee at once (latency by send second)`,
              markdown: recoveryTable(recovery),
            },
          ]
        : []),
      {
        heading: 'Where the time went (services’ own histograms, step + grace; p99 interpolated in buckets)',
        markdown: timeTable,
      },
      {
        heading:
          'Broker messages per message sent (publishes and deliveries; a write bundle or dispatch bundle counts once)',
        markdown: brokerTable,
      },
      { heading: 'CPU per process over the send window (% of one core)', markdown: cpuTable },
      { heading: 'µs of CPU per delivered message, per process', markdown: cpuPerMsgTable },
      {
        heading: 'Waiting for a CPU: run-queue delay over the send window (% of the window, summed over threads)',
        markdown: rqTable,
      },
      {
        heading:
          'Waking up: times a thread of each process was put on a CPU, per delivered message (schedstat timeslices over the send window)',
        markdown: slicesTable,
      },
      { heading: 'W5 — whole path vs broker ceiling, same run', markdown: w5Table },
    ],
    notes,
    data: { steps, recovery, raws, rawMean, crossGateway, sameGwTwoPartitions, pairs: dmChannels, best, logged },
  };
}

/**
 * Issue #8's broker target: broker CPU per delivered DM at most 3× the broker CPU per raw quorum-queue
 * publish (persistent, confirmed; not consumed) measured in the same run.
 */
function brokerRatioNote(raws: readonly RawConfirmResult[], sweep: readonly StepResult[]): string {
  const rawUs =
    raws.reduce((a, r) => a + (usPerMessage(r.cpu.percent.broker, r.perSec) ?? Number.NaN), 0) / raws.length;
  const perRate = sweep.map((s) => {
    const us = usPerMessage(s.cpu.percent.broker, s.deliveredPerSec) ?? Number.NaN;
    return `${fmt(s.rate)}/s ${fmt(us)} µs = ${ratio(us, rawUs)}`;
  });
  return (
    `Broker CPU per delivered DM against per raw quorum-queue publish (persistent, confirmed; ${fmt(rawUs)} µs, the mean of the two raw runs, same run): ${perRate.join('; ')} ` +
    '(issue #8: ≤ 3× at 1,000/s).'
  );
}
