// Dispatch throughput (ephemeral path): 1,000 users attached to two gateway processes (gw-a, gw-b,
// 500 each, placed by slot as nginx would), one publisher in this process sending TYPING_START
// dispatches as fast as flow control allows — to one random user, then to random groups of 10 —
// through router.dispatch() and, as the baseline, through raw amqplib publishing the same bodies
// to the same topic exchanges and keys. Same run, same gateways, A/B per round.
import { createRouter, type DispatchEnvelope, partitionOf, slotOf } from '@chat/router';
import { amqpUrl, uniquePrefix } from '@chat/testkit';
import amqp from 'amqplib';
import hdr from 'hdr-histogram-js';
import { GatewayProcess } from './lib/gateway-process.js';
import type { DispatchData, ProgressReply, ReportReply, StartedReply } from './lib/gateway-worker.js';
import { BenchFailure, defineScenario, type ScenarioOutcome, within } from './lib/scenario.js';
import { epochMs, latencyHistogram, median, seededRandom, sleep, summarize } from './lib/stats.js';
import {
  CpuMeter,
  type CpuReading,
  DISTURBED_PCT,
  otherLoadNote,
  printSystem,
  systemBrokerPid,
  waitForQuiet,
} from './lib/system.js';
import { fmt, formatTable, pct, ratio } from './lib/table.js';
import { deleteRouterObjects } from './lib/topology.js';

/** Total time the run may spend waiting for lulls in other people's work. */
const quietBudgetMs = (quick: boolean) => (quick ? 0 : 180_000);
/** A phase that publishes slower than 500 dispatches/s, or drains slower than that, is a failure. */
const phaseLimitMs = (count: number, groupCount: number) => 30_000 + (Math.max(count, groupCount) / 500) * 1000;

const scenario = defineScenario({
  name: 'dispatch',
  summary:
    'Dispatch throughput (ephemeral path): router.dispatch() vs raw amqplib to 1 and to 10 users on 2 gateway processes',
  flags: {
    count: { type: 'int', default: 200_000, min: 1, max: 1_000_000, help: 'dispatches to one user per run' },
    'group-count': { type: 'int', default: 40_000, min: 0, max: 1_000_000, help: 'dispatches to a group per run' },
    'group-size': { type: 'int', default: 10, min: 2, max: 100, help: 'users per group dispatch' },
    rounds: { type: 'int', default: 3, min: 1, max: 10, help: 'A/B rounds' },
    users: { type: 'int', default: 1000, min: 4, max: 100_000, help: 'users attached (at least 2 × --group-size)' },
    granularity: { type: 'choice', choices: ['slot', 'user'], default: 'slot', help: 'router granularity' },
  },
  quick: { count: 5000, 'group-count': 2000, rounds: 1 },
  limitMinutes: ({ flags, quick }) =>
    (120_000 +
      quietBudgetMs(quick) +
      2 *
        flags.rounds *
        (flags['group-count'] > 0 ? 4 : 2) *
        (phaseLimitMs(flags.count, flags['group-count']) + 60_000)) /
    60_000,
});
const {
  count: COUNT,
  'group-count': GROUP_COUNT,
  'group-size': GROUP_SIZE,
  rounds: ROUNDS,
  users: USERS,
  granularity: GRANULARITY,
} = scenario.flags;
if (USERS < 2 * GROUP_SIZE)
  scenario.usageError(`--users must be an integer in ${2 * GROUP_SIZE}..100000, got '${USERS}'`);
const quick = scenario.quick;
const WARMUP = 2000;
const QUIET_BUDGET_MS = quietBudgetMs(quick);
const URL = amqpUrl();
const SLOTS = 1024;
const PARTITIONS = 16;
const SERVER_IDS = ['gw-a', 'gw-b'] as const;
/** Loss = not received this long after the last delivery seen (dispatch is at-most-once: reported, not failed). */
const QUIET_MS = 3000;
const PHASE_LIMIT_MS = phaseLimitMs(COUNT, GROUP_COUNT);

type Variant = 'raw' | 'router';
type Phase = 'single' | 'group';

interface User {
  name: string;
  gateway: 0 | 1;
  partition: number;
}

interface RunResult {
  phase: Phase;
  variant: Variant;
  round: number;
  dispatches: number;
  publishes: number;
  publishMs: number;
  dispatchesPerSec: number;
  publishesPerSec: number;
  expectedDeliveries: number;
  deliveries: number;
  /** From the first publish to the last delivery. */
  deliveryMs: number;
  deliveriesPerSec: number;
  /** From the last publish to the last delivery. */
  drainMs: number;
  /** Dispatches of which some intended gateway received no copy. */
  lostDispatches: number;
  /** Copies expected but not received (per dispatch and gateway). */
  lostCopies: number;
  /** Copies beyond the first that one gateway received for one dispatch (one per partition touched). */
  extraCopiesPerGateway: number;
  /** Copies at a gateway that should have received none, or more than expected. */
  unexpectedCopies: number;
  stray: number;
  latency: ReturnType<typeof summarize>;
  cpu: CpuReading;
  /** Other processes used more than DISTURBED_PCT of a core during this run or its A/B partner. */
  disturbed?: boolean;
  /** How long we waited for a lull before this run. */
  waitedMs?: number;
}

/** Places users on gateways by slot, as nginx's `hash $arg_slot consistent` would: lower half of the slots on gw-a. */
function placeUsers(total: number): User[] {
  const half = total / 2;
  const users: User[] = [];
  const count = [0, 0];
  for (let i = 0; users.length < total; i++) {
    const name = `u${i}`;
    const slot = slotOf(name, SLOTS);
    const gateway = slot < SLOTS / 2 ? 0 : 1;
    if (count[gateway]! >= half) continue;
    count[gateway]! += 1;
    users.push({ name, gateway, partition: partitionOf(slot, PARTITIONS) });
  }
  return users;
}

/** `count` dispatches of `size` distinct random users each (indexes into users), from a fixed seed. */
function makeTargets(users: number, count: number, size: number, seed: number): Int32Array {
  const random = seededRandom(seed);
  const out = new Int32Array(count * size);
  for (let d = 0; d < count; d++) {
    for (let k = 0; k < size; k++) {
      let pick: number;
      do pick = Math.floor(random() * users);
      while (out.subarray(d * size, d * size + k).includes(pick));
      out[d * size + k] = pick;
    }
  }
  return out;
}

/** Copies each gateway should receive per dispatch: one per partition publish that carries a key it binds. */
function expectedCopies(users: User[], targets: Int32Array, size: number): [Uint8Array, Uint8Array] {
  const count = targets.length / size;
  const exp: [Uint8Array, Uint8Array] = [new Uint8Array(count), new Uint8Array(count)];
  for (let d = 0; d < count; d++) {
    const seen = [new Set<number>(), new Set<number>()];
    for (let k = 0; k < size; k++) {
      const u = users[targets[d * size + k]!]!;
      seen[u.gateway]!.add(u.partition);
    }
    exp[0][d] = seen[0]!.size;
    exp[1][d] = seen[1]!.size;
  }
  return exp;
}

function envelope(tag: string, seq: number, to: string[]): DispatchEnvelope<DispatchData> {
  return {
    v: 1,
    type: 'dispatch',
    event: 'TYPING_START',
    to,
    data: {
      channel_id: '1180000000000000042',
      user_id: 'u-typist',
      timestamp: Math.floor(Date.now() / 1000),
      tag,
      seq,
      sentAt: epochMs(),
    },
  };
}

async function main(): Promise<ScenarioOutcome> {
  const system = (await printSystem(URL)).line;
  const brokerPid = await systemBrokerPid();
  if (brokerPid === undefined) console.warn('could not find the broker pid (rabbitmqctl eval): broker CPU unknown');

  const prefix = uniquePrefix(`dispatch-${GRANULARITY}`);
  const users = placeUsers(USERS);
  const gateways = SERVER_IDS.map((id) => new GatewayProcess(id));
  const publisher = createRouter({ url: URL, prefix, granularity: GRANULARITY, connectionName: `${prefix}publisher` });
  const rawConn = await amqp.connect(URL, { clientProperties: { connection_name: `${prefix}raw` }, noDelay: true });
  rawConn.on('error', () => {});
  try {
    await publisher.ready(30_000);
    const rawCh = await rawConn.createChannel();
    rawCh.on('error', () => {});
    const exchanges = publisher.names.routeExchanges;
    const started = await Promise.all(
      gateways.map((g, i) =>
        g.call<StartedReply>(
          {
            type: 'start',
            url: URL,
            prefix,
            serverId: SERVER_IDS[i]!,
            granularity: GRANULARITY,
            users: users.filter((u) => u.gateway === i).map((u) => u.name),
          },
          120_000,
        ),
      ),
    );
    for (const [i, s] of started.entries()) {
      console.log(
        `${SERVER_IDS[i]}: pid ${s.pid}, ${USERS / 2} users attached in ${fmt(s.attachMs)} ms, ${s.boundKeys} keys bound`,
      );
    }
    console.log(
      `publisher: ${URL.replace(/\/\/[^@]*@/, '//')}, ${GRANULARITY} granularity, P = ${PARTITIONS}; ` +
        `${COUNT} single-user dispatches, ${GROUP_COUNT} dispatches to ${GROUP_SIZE} users; ${ROUNDS} round(s)`,
    );

    const phases: Array<{ phase: Phase; count: number; size: number }> = [
      { phase: 'single', count: COUNT, size: 1 },
      ...(GROUP_COUNT > 0 ? [{ phase: 'group' as const, count: GROUP_COUNT, size: GROUP_SIZE }] : []),
    ];
    const runs: RunResult[] = [];
    const pids = {
      bench: process.pid,
      'gw-a': gateways[0]!.pid,
      'gw-b': gateways[1]!.pid,
      broker: brokerPid,
    };
    // On a shared machine: start each run in a lull (bounded), and when another process took more
    // than DISTURBED_PCT of a core during an A/B pair, mark the pair and run another round (up to
    // 2× the rounds) until every phase has ROUNDS undisturbed pairs.
    let quietBudgetMs = QUIET_BUDGET_MS;
    const cleanPairs = new Map<Phase, number>(phases.map((p) => [p.phase, 0]));
    const enough = () => [...cleanPairs.values()].every((n) => n >= ROUNDS);
    // Round 0 is a small warm-up of both variants (JIT, connections), not reported.
    for (let round = 0; round <= 2 * ROUNDS && !(round > ROUNDS && enough()); round++) {
      for (const { phase, count: fullCount, size } of phases) {
        if (round > ROUNDS && cleanPairs.get(phase)! >= ROUNDS) continue;
        const pair: RunResult[] = [];
        const count = round === 0 ? Math.min(fullCount, WARMUP) : fullCount;
        // The same random targets for A and B of this round.
        const targets = makeTargets(users.length, count, size, round * 1000 + size);
        const expected = expectedCopies(users, targets, size);
        // A/B in odd rounds, B/A in even ones, so that neither variant always runs second.
        const order: Variant[] = round % 2 === 1 ? ['raw', 'router'] : ['router', 'raw'];
        for (const variant of order) {
          const tag = `${phase}-${variant}-r${round}`;
          await Promise.all(gateways.map((g) => g.call({ type: 'phase', tag, count })));
          const wait = round === 0 ? undefined : await waitForQuiet(pids, Math.min(30_000, quietBudgetMs));
          quietBudgetMs = Math.max(0, quietBudgetMs - (wait?.waitedMs ?? 0));
          const cpu = new CpuMeter(pids);
          const t0 = performance.now();
          const t0Epoch = epochMs();
          let publishes = 0;
          const toOf = (d: number) => {
            const to: string[] = new Array(size);
            for (let k = 0; k < size; k++) to[k] = users[targets[d * size + k]!]!.name;
            return to;
          };
          const publishing = (async () => {
            if (variant === 'router') {
              for (let d = 0; d < count; d++) {
                const to = toOf(d);
                publishes += await publisher.dispatch(envelope(tag, d, to), { users: to });
              }
            } else {
              for (let d = 0; d < count; d++) {
                const to = toOf(d);
                const body = Buffer.from(JSON.stringify(envelope(tag, d, to)));
                const groups = new Map<number, string[]>();
                for (const user of to) {
                  const slot = slotOf(user, SLOTS);
                  const key = GRANULARITY === 'slot' ? `s.${slot}` : `u.${user}`;
                  const p = partitionOf(slot, PARTITIONS);
                  const list = groups.get(p);
                  if (!list) groups.set(p, [key]);
                  else if (!list.includes(key)) list.push(key);
                }
                for (const [p, keys] of groups) {
                  const props = {
                    contentType: 'application/json',
                    timestamp: Math.floor(Date.now() / 1000),
                    type: 'dispatch',
                    persistent: false,
                    headers: { v: 1 },
                    ...(keys.length > 1 ? { CC: keys.slice(1) } : {}),
                  };
                  publishes++;
                  if (!rawCh.publish(exchanges[p]!, keys[0]!, body, props)) {
                    await new Promise<void>((resolve) => rawCh.once('drain', resolve));
                  }
                }
              }
            }
          })();
          await within(publishing, PHASE_LIMIT_MS, `${tag}: publishing`);
          const publishMs = performance.now() - t0;

          const expectedDeliveries = expected[0].reduce((a, b) => a + b, 0) + expected[1].reduce((a, b) => a + b, 0);
          let seen = -1;
          let changedAt = performance.now();
          for (;;) {
            const progress = await Promise.all(gateways.map((g) => g.call<ProgressReply>({ type: 'progress' })));
            const total = progress.reduce((a, p) => a + p.received, 0);
            if (total >= expectedDeliveries) break;
            if (total !== seen) {
              seen = total;
              changedAt = performance.now();
            } else if (performance.now() - changedAt >= QUIET_MS) break;
            if (performance.now() - t0 > 2 * PHASE_LIMIT_MS) throw new BenchFailure(`${tag}: deliveries never settled`);
            await sleep(50);
          }
          const reading = cpu.stop();
          const reports = await Promise.all(gateways.map((g) => g.call<ReportReply>({ type: 'report' })));

          let lostDispatches = 0;
          let lostCopies = 0;
          let extraCopiesPerGateway = 0;
          let unexpectedCopies = 0;
          for (let d = 0; d < count; d++) {
            let lost = false;
            for (const gw of [0, 1] as const) {
              const want = expected[gw][d]!;
              const got = reports[gw]!.copies[d]!;
              if (want > 0 && got === 0) lost = true;
              if (got < want) lostCopies += want - got;
              if (got > want) unexpectedCopies += got - want;
              if (got > 1) extraCopiesPerGateway += Math.min(got, want) - 1;
            }
            if (lost) lostDispatches++;
          }
          const deliveries = reports.reduce((a, r) => a + r.received, 0);
          const lastAt = Math.max(...reports.map((r) => r.lastAt));
          const deliveryMs = lastAt > 0 ? lastAt - t0Epoch : Number.NaN;
          const hist = latencyHistogram();
          for (const r of reports) hist.add(hdr.decodeFromCompressedBase64(r.latency));
          const r: RunResult = {
            phase,
            variant,
            round,
            dispatches: count,
            publishes,
            publishMs,
            dispatchesPerSec: count / (publishMs / 1000),
            publishesPerSec: publishes / (publishMs / 1000),
            expectedDeliveries,
            deliveries,
            deliveryMs,
            deliveriesPerSec: deliveries / (deliveryMs / 1000),
            drainMs: Math.max(0, deliveryMs - publishMs),
            lostDispatches,
            lostCopies,
            extraCopiesPerGateway,
            unexpectedCopies,
            stray: reports.reduce((a, x) => a + x.stray, 0),
            latency: summarize(hist),
            cpu: reading,
            waitedMs: wait?.waitedMs ?? 0,
          };
          if (round === 0) {
            await sleep(500);
            continue;
          }
          runs.push(r);
          pair.push(r);
          console.log(
            `  round ${round} ${phase.padEnd(6)} ${variant.padEnd(6)} ${fmt(r.dispatchesPerSec).padStart(7)} dispatch/s, ` +
              `${fmt(r.deliveriesPerSec).padStart(7)} deliveries/s, ${r.deliveries}/${r.expectedDeliveries} received, ` +
              `lost ${r.lostDispatches}, p50 ${fmt(r.latency.p50Ms)} ms, p99 ${fmt(r.latency.p99Ms)} ms, other CPU ${pct(r.cpu.others)}`,
          );
          await sleep(500);
        }
        const disturbed = pair.some((r) => (r.cpu.others ?? 0) > DISTURBED_PCT);
        for (const r of pair) r.disturbed = disturbed;
        if (pair.length > 0 && !disturbed) cleanPairs.set(phase, cleanPairs.get(phase)! + 1);
      }
    }

    const table = formatTable(
      [
        'phase',
        'variant',
        'round',
        'dispatches',
        'AMQP publishes',
        'publish s',
        'dispatch/s',
        'deliveries',
        'deliveries/s',
        'drain s',
        'lost',
        'p50 ms',
        'p99 ms',
        'bench CPU',
        'gw-a CPU',
        'gw-b CPU',
        'broker CPU',
        'other CPU',
      ],
      runs.map((r) => [
        r.phase === 'single' ? 'to 1 user' : `to ${GROUP_SIZE} users`,
        r.variant,
        r.disturbed ? `${r.round} *` : r.round,
        r.dispatches,
        r.publishes,
        r.publishMs / 1000,
        r.dispatchesPerSec,
        r.deliveries,
        r.deliveriesPerSec,
        r.drainMs / 1000,
        r.lostDispatches,
        r.latency.p50Ms,
        r.latency.p99Ms,
        pct(r.cpu.percent.bench),
        pct(r.cpu.percent['gw-a']),
        pct(r.cpu.percent['gw-b']),
        pct(r.cpu.percent.broker),
        pct(r.cpu.others),
      ]),
    );
    const summaryRows: Array<Array<string | number>> = [];
    const notes: string[] = [];
    for (const { phase } of phases) {
      const ofPhase = runs.filter((r) => r.phase === phase);
      const counted = ofPhase.filter((r) => !r.disturbed);
      const basis = counted.length > 0 ? counted : ofPhase;
      const of = (v: Variant) => basis.filter((r) => r.variant === v);
      notes.push(
        counted.length === ofPhase.length
          ? `${phase}: no pair was disturbed (other processes under ${DISTURBED_PCT}% of a core); medians over all ${ofPhase.length / 2} pairs.`
          : counted.length > 0
            ? `${phase}: pairs marked * were disturbed (another process used > ${DISTURBED_PCT}% of a core during one of their runs) ` +
              `and are left out of the medians: ${counted.length / 2} of ${ofPhase.length / 2} pairs counted.`
            : `${phase}: every pair was disturbed (> ${DISTURBED_PCT}% of a core used by other processes): medians over all pairs, treat them with care.`,
      );
      const med = (v: Variant, f: (r: RunResult) => number) => median(of(v).map(f));
      const rawRate = med('raw', (r) => r.dispatchesPerSec);
      const routerRate = med('router', (r) => r.dispatchesPerSec);
      summaryRows.push([
        phase === 'single' ? 'to 1 user' : `to ${GROUP_SIZE} users`,
        rawRate,
        routerRate,
        ratio(routerRate, rawRate),
        med('raw', (r) => r.deliveriesPerSec),
        med('router', (r) => r.deliveriesPerSec),
        ratio(
          med('router', (r) => r.deliveriesPerSec),
          med('raw', (r) => r.deliveriesPerSec),
        ),
        pct(med('raw', (r) => r.cpu.percent.bench ?? Number.NaN)),
        pct(med('router', (r) => r.cpu.percent.bench ?? Number.NaN)),
        med('raw', publisherMicros),
        med('router', publisherMicros),
      ]);
      const sample = of('router')[0];
      if (phase === 'group' && sample) {
        notes.push(
          `Dispatch to ${GROUP_SIZE} random users: ${fmt(sample.publishes / sample.dispatches)} AMQP publishes per dispatch ` +
            `(one per partition touched) and ${fmt(sample.deliveries / sample.dispatches)} gateway deliveries per dispatch for 2 gateways; ` +
            `${sample.extraCopiesPerGateway} of ${sample.deliveries} deliveries (${fmt((100 * sample.extraCopiesPerGateway) / Math.max(1, sample.deliveries), 0)}%) ` +
            'were a second or later copy of the same envelope at the same gateway (one copy per partition touched, not one per gateway).',
        );
      }
    }
    const summary = formatTable(
      [
        'phase',
        'raw dispatch/s',
        'router dispatch/s',
        'router/raw (dispatch/s)',
        'raw deliveries/s',
        'router deliveries/s',
        'router/raw (deliveries/s)',
        'raw bench CPU',
        'router bench CPU',
        'raw publisher µs/dispatch',
        'router publisher µs/dispatch',
      ],
      summaryRows,
    );
    console.log(`\n${table}\n\n${summary}\n`);

    notes.unshift(
      `Users placed by slot as nginx would (slots < ${SLOTS / 2} on gw-a, the rest on gw-b), ${USERS / 2} each; the gateways are ` +
        'separate processes with the router consumer (prefetch 256, ack per envelope); the publisher (raw or router) runs in ' +
        'the bench process and publishes as fast as flow control allows (waits for `drain` when a publish returns false).',
      'dispatch/s is how fast the publisher handed envelopes to its socket (flow control lets it run ahead into TCP and ' +
        'broker buffers); the broker, at 1–1.2 cores, bounds what gets through: compare deliveries/s, and the publisher ' +
        'CPU per dispatch for the cost of the router itself.',
      `Loss = an intended gateway got no copy ${QUIET_MS / 1000} s after the last delivery seen; dispatch is at-most-once, so it is reported, not failed. ` +
        'Latency = publish → gateway handler, while publishing flat out: mostly queueing in the gateway queues.',
    );
    const lost = runs.reduce((a, r) => a + r.lostDispatches, 0);
    const unexpected = runs.reduce((a, r) => a + r.unexpectedCopies + r.stray, 0);
    notes.push(
      otherLoadNote(runs.map((r) => r.cpu)),
      lost === 0 ? 'No dispatch was lost.' : `${lost} dispatches lost in total (see the table).`,
      unexpected === 0
        ? 'No gateway received a copy it should not have.'
        : `${unexpected} unexpected or stray copies received.`,
    );
    for (const n of notes) console.log(`- ${n}`);
    // Loss is reported, not failed (at most once), and so is a stray (a late copy of an earlier phase);
    // more copies at a gateway than the partitions its users lie in is a routing bug.
    const misrouted = runs.reduce((a, r) => a + r.unexpectedCopies, 0);
    if (misrouted > 0) console.error(`FAILED: ${misrouted} copies at gateways that should not have had them`);

    return {
      code: misrouted > 0 ? 1 : 0,
      results: {
        title: 'Dispatch throughput — raw amqplib vs router.dispatch (ephemeral path)',
        description:
          `${USERS} users attached to 2 gateway processes (gw-a, gw-b); one publisher sends TYPING_START dispatches to one random user ` +
          `(then to ${GROUP_SIZE} random users) across P = ${PARTITIONS} route exchanges as fast as flow control allows, through raw ` +
          'amqplib (same bodies, exchanges, keys and CC lists) and through `router.dispatch()`, A/B per round in one run, on the system broker.',
        system,
        params: {
          count: COUNT,
          groupCount: GROUP_COUNT,
          groupSize: GROUP_SIZE,
          rounds: ROUNDS,
          disturbedPct: DISTURBED_PCT,
          users: USERS,
          granularity: GRANULARITY,
          quick,
        },
        tables: [
          { heading: 'Per run (CPU over publish + drain, % of one core)', markdown: table },
          { heading: 'Medians across rounds', markdown: summary },
        ],
        notes,
        data: { started, runs },
      },
    };
  } finally {
    await Promise.allSettled([publisher.close(), rawConn.close(), ...gateways.map((g) => g.stop())]);
    await deleteRouterObjects(URL, prefix, SERVER_IDS).catch((err: unknown) =>
      console.error(`cleanup of ${prefix} failed: ${(err as Error).message}`),
    );
  }
}

/** CPU time of the publishing (bench) process per dispatch, in µs: the cost of the publisher itself. */
function publisherMicros(r: RunResult): number {
  return ((r.cpu.percent.bench ?? Number.NaN) * r.cpu.wallMs * 10) / r.dispatches;
}

scenario.run(main);
