// docs/benchmarks.md W2 — group fan-out through the whole system: 3 gateway processes, a persister, the
// MongoDB stand-in, one group of `--members` (1,000) WebSocket clients spread over the gateways (one
// load-generator process per gateway). One sender (or `--senders` of them, in turn) posts
// message.create into the group at R = 10, 50, 100 msg/s (open loop); every member records each copy.
// Per rate: send → LAST member and send → each member latency, deliveries/s, lost member copies (5 s
// after the step), broker messages per group message from the routers' own counters (AMQP messages
// consumed from gateway queues must equal the number of gateways holding members, not the member
// count; dispatch bundles may carry several records), frames per member per message, CPU per process.
import { randomBytes } from 'node:crypto';
import { gatewayQueueName, SnowflakeGenerator } from '@chat/router';
import { amqpUrl } from '@chat/testkit';
import hdr from 'hdr-histogram-js';
import { ChildHandle, stopLoaders } from './lib/child.js';
import { type Metrics, scrape } from './lib/prom.js';
import { queueDepth } from './lib/queue-depth.js';
import { defineScenario, type ScenarioOutcome } from './lib/scenario.js';
import {
  cleanupRun,
  type GatewayService,
  type PersisterService,
  REDIS_URL,
  redisPid,
  runPrefix,
  STAND_IN_NOTE,
  type StackEnv,
  startGateway,
  startMongoProcess,
  startPersister,
} from './lib/services.js';
import { epochMs, type LatencySummary, latencyHistogram, recordMs, sleep, summarize } from './lib/stats.js';
import { makeUsers, seedUsers } from './lib/storm-users.js';
import { CpuMeter, type CpuReading, otherLoadNote, printSystem, systemBrokerPid, waitForQuiet } from './lib/system.js';
import { fmt, formatTable, pct } from './lib/table.js';

const scenario = defineScenario({
  name: 'w2',
  summary: 'W2: a group of 1,000 members over 3 gateways, one sender at R msg/s, through the whole system',
  flags: {
    rates: { type: 'ints', default: [10, 50, 100], min: 1, max: 5000, help: 'group messages/s, one step each' },
    'step-s': { type: 'int', default: 15, min: 1, max: 300, help: 'seconds per step' },
    members: { type: 'int', default: 1000, min: 3, max: 10_000, help: 'group members (a third per gateway)' },
    senders: { type: 'int', default: 1, min: 1, max: 100, help: 'members that send' },
  },
  quick: { rates: [10, 50], 'step-s': 3, members: 60 },
  limitMinutes: 30,
});
const { rates: RATES, 'step-s': STEP_S, members: MEMBERS, senders: SENDERS } = scenario.flags;
const quick = scenario.quick;
const GATEWAYS = 3;
const BROKER = amqpUrl();
const GRACE_MS = 5000;
const DRAIN_LIMIT_MS = 60_000;
const TARGET_P99_MS = 250;
const TARGET_RATE = 100;
/** How long a step waits for a lull in other people's load (a quick run does not wait). */
const QUIET_WAIT_MS = quick ? 2000 : 60_000;
const WARMUP_S = quick ? 1 : 3;

interface LoadgenReport {
  sent: number;
  sentAt: Float64Array;
  respOk: number;
  respErr: Record<string, number>;
  answer: Uint8Array;
  copies: Uint32Array;
  lastAt: Float64Array;
  duplicates: number;
  frames: number;
  perDelivery: string;
  perSecond: number[];
  status: { ready: number; closes: Record<string, number> };
}

/** Per group message, from the services' counters (deltas over the step and its grace period). */
interface BrokerCounts {
  /** AMQP messages the gateways consumed from their queues (a dispatch bundle counts once). */
  gatewayMessages: number;
  /** Dispatch records handed to the gateways' handlers (after dropping repeats of one id). */
  gatewayRecords: number;
  /** Records of consumed bundles: delivered to the handler, or foreign (for keys the queue does not bind). */
  bundleRecordsDelivered: number;
  bundleRecordsForeign: number;
  /** Extra copies of one dispatch id a gateway router dropped. */
  droppedCopies: number;
  /** Dispatch messages the persister published (a bundle counts once). */
  persisterPublishes: number;
  /** Frames the gateways wrote to sockets (chat_gateway_deliveries_total), per member. */
  framesPerMember: number;
}

interface StepResult {
  rate: number;
  durationS: number;
  sent: number;
  sentPerSec: number;
  acked: number;
  responseErrors: Record<string, number>;
  /** Requests answered with an error (nothing stored): not counted as lost. */
  refused: number;
  /** Requests never answered (counted as lost when a member missed them). */
  unanswered: number;
  members: number;
  expectedCopies: number;
  copies: number;
  lostCopies: number;
  /** Member copies not received GRACE_MS after the step (late ones included; lostCopies is judged after the drain). */
  missingAtGrace: number;
  /** Seconds until the persist and gateway queues were empty after the grace period. */
  drainedS: number;
  /** Messages some member had not received 5 s after the step. */
  incompleteMessages: number;
  duplicates: number;
  deliveredPerSec: number;
  /** Send → the last member's copy, over messages every member received. */
  toLast: LatencySummary;
  /** Send → each member's copy. */
  perDelivery: LatencySummary;
  /** MESSAGE_CREATE frames of the step the clients received, per member per message. */
  clientFramesPerMemberMessage: number;
  broker: BrokerCounts;
  cpu: CpuReading;
  quietStart: boolean;
}

function counterDelta(before: Metrics[], after: Metrics[], name: string, labels: Record<string, string> = {}): number {
  const sum = (list: Metrics[]) => list.reduce((n, m) => n + m.value(name, labels), 0);
  return sum(after) - sum(before);
}

/** Per message: member copies (all load generators), refused/unanswered writes, send → last member latency. */
function tally(reports: readonly LoadgenReport[], sent: number) {
  const sender = reports[0]!;
  const toLast = latencyHistogram();
  let copies = 0;
  let lostCopies = 0;
  let incomplete = 0;
  let refused = 0;
  let unanswered = 0;
  for (let k = 0; k < sent; k++) {
    // A refused write (`overloaded`, …) was never stored: no member can get it.
    if (sender.answer[k] === 2) {
      refused++;
      continue;
    }
    if (sender.answer[k] !== 1) unanswered++;
    let got = 0;
    let last = 0;
    for (const r of reports) {
      got += r.copies[k] ?? 0;
      last = Math.max(last, r.lastAt[k] ?? 0);
    }
    copies += got;
    if (got >= MEMBERS) recordMs(toLast, last - sender.sentAt[k]!);
    else {
      incomplete++;
      lostCopies += MEMBERS - got;
    }
  }
  return { copies, lostCopies, incomplete, refused, unanswered, toLast };
}

async function main(): Promise<ScenarioOutcome> {
  const system = (await printSystem(BROKER)).line;
  const brokerPid = await systemBrokerPid();
  const redisServerPid = await redisPid();
  console.log(`Note: ${STAND_IN_NOTE}`);

  const prefix = runPrefix('w2');
  const secret = randomBytes(32).toString('hex');
  const mongo = await startMongoProcess();
  const stack: StackEnv = {
    prefix,
    amqpUrl: BROKER,
    mongoUrl: mongo.url,
    mongoDb: prefix.replace(/-/g, '_'),
    redisUrl: REDIS_URL,
  };
  // Abuse limits would throttle the benchmark itself (one sender posts up to 100 msg/s): raise them
  // as w1 does; everything else is the gateway's default.
  const gatewayEnv = {
    DEFAULT_GROUP: '',
    RATE_FRAMES: '1000000',
    RATE_BURST: '1000000',
    USER_RATE_REQUESTS: '1000000',
    HTTP_RATE_REQUESTS: '1000000',
    // One connection posts every message: its own cap of writes awaiting a confirm (default 16)
    // would refuse a single sender as soon as confirms take 160 ms at 100 msg/s. Raised to the
    // gateway-wide cap (MAX_INFLIGHT_WRITES, default 256, unchanged): admission control stays on.
    MAX_INFLIGHT_WRITES_PER_CONNECTION: '256',
  };
  const serverIds = Array.from({ length: GATEWAYS }, (_, i) => `gw${i}`);
  const gateways: GatewayService[] = [];
  let persister: PersisterService | undefined;
  const loadgens: ChildHandle[] = [];
  const channelIds: string[] = [];
  const steps: StepResult[] = [];
  try {
    persister = await startPersister(stack, {});
    for (const id of serverIds) gateways.push(await startGateway(stack, id, secret, gatewayEnv));

    let t = performance.now();
    const users = await makeUsers(secret, MEMBERS);
    const groupId = await new SnowflakeGenerator({ workerId: 1020 }).next();
    await seedUsers(stack.mongoUrl, stack.mongoDb, users, { id: groupId, name: 'w2' });
    channelIds.push(groupId);
    console.log(
      `seeded ${MEMBERS} users (account rows and tokens, no scrypt) and group ${groupId} of all of them in ${fmt((performance.now() - t) / 1000)} s`,
    );

    // u<n> connects to gateway n mod 3, from the load generator of that gateway (its own address).
    for (let g = 0; g < GATEWAYS; g++) {
      loadgens.push(new ChildHandle(`lg${g}`, new URL('./lib/w2-loadgen.ts', import.meta.url)));
    }
    console.log(`connecting ${MEMBERS} members (a third on each gateway) …`);
    t = performance.now();
    const opened = await Promise.all(
      loadgens.map((lg, g) =>
        lg.call<{ ready: number }>(
          'open',
          {
            url: gateways[g]!.wsUrl,
            localAddress: `127.0.0.${31 + g}`,
            clients: users.filter((u) => u.n % GATEWAYS === g).map((u) => ({ token: u.token, user: u.n })),
            concurrency: 100,
          },
          5 * 60_000,
        ),
      ),
    );
    const ready = opened.reduce((n, o) => n + o.ready, 0);
    console.log(`  ${ready} of ${MEMBERS} identified in ${fmt((performance.now() - t) / 1000)} s`);
    if (ready < MEMBERS) throw new Error(`only ${ready} of ${MEMBERS} members identified`);
    // The senders: u0, u3, u6, … — all on gw0, in lg0.
    const senderUsers = Array.from({ length: SENDERS }, (_, i) => i * GATEWAYS).filter((n) => n < MEMBERS);
    await Promise.all(loadgens.map((lg) => lg.call('configure', { channel: groupId, senders: senderUsers })));
    const gatewaysHoldingMembers = gateways.length;

    const procs = {
      gw0: gateways[0]!.pid,
      gw1: gateways[1]!.pid,
      gw2: gateways[2]!.pid,
      persister: persister.pid,
      standIn: mongo.pid,
      broker: brokerPid,
      redis: redisServerPid,
      lg0: loadgens[0]!.pid,
      lg1: loadgens[1]!.pid,
      lg2: loadgens[2]!.pid,
      bench: process.pid,
    };
    const queues = [`${prefix}.persist`, ...serverIds.map((id) => gatewayQueueName(prefix, id))];
    const scrapeAll = () =>
      Promise.all([...gateways.map((g) => scrape(`${g.url}/metrics`)), scrape(persister!.metricsUrl)]);

    const step = async (tag: string, rate: number, durationS: number): Promise<StepResult> => {
      const quiet = await waitForQuiet(procs, QUIET_WAIT_MS);
      const t0 = epochMs();
      await Promise.all(loadgens.map((lg) => lg.call('track', { tag, t0 })));
      const before = await scrapeAll();
      const cpu = new CpuMeter(procs);
      const run = await loadgens[0]!.call<{ sent: number; ms: number }>(
        'run',
        { rate, durationMs: durationS * 1000 },
        durationS * 1000 + 60_000,
      );
      const reading = cpu.stop();
      await sleep(GRACE_MS);
      const report = () =>
        Promise.all(loadgens.map((lg) => lg.call<LoadgenReport>('report', { messages: run.sent }, 60_000)));
      const atGrace = tally(await report(), run.sent);
      // Then until the queues are empty (bounded): a copy that arrives later is late, not lost.
      const drainStarted = performance.now();
      while (
        performance.now() - drainStarted < DRAIN_LIMIT_MS &&
        (await queueDepth(BROKER, queues, 'bench-w2-depth')) > 0
      )
        await sleep(500);
      await sleep(1000);
      const drainedS = (performance.now() - drainStarted) / 1000;
      const after = await scrapeAll();
      const reports = await report();
      const sender = reports[0]!;
      const members = reports.reduce((n, r) => n + r.status.ready, 0);
      const final = tally(reports, run.sent);
      const { copies, lostCopies, incomplete, refused, unanswered, toLast } = final;
      const perDelivery = latencyHistogram();
      for (const r of reports) perDelivery.add(hdr.decodeFromCompressedBase64(r.perDelivery));
      let inWindow = 0;
      for (const r of reports)
        for (let s = 0; s < Math.min(durationS, r.perSecond.length); s++) inWindow += r.perSecond[s]!;
      const gwBefore = before.slice(0, GATEWAYS);
      const gwAfter = after.slice(0, GATEWAYS);
      // Per group message posted (refused writes were never stored nor dispatched).
      const per = (n: number) => n / Math.max(1, sender.sent - refused);
      const broker: BrokerCounts = {
        gatewayMessages: per(
          counterDelta(gwBefore, gwAfter, 'chat_router_consumed_messages_total', { queue: 'gateway' }),
        ),
        gatewayRecords: per(counterDelta(gwBefore, gwAfter, 'chat_router_deliveries_total', { queue: 'gateway' })),
        bundleRecordsDelivered: per(
          counterDelta(gwBefore, gwAfter, 'chat_router_bundle_records_total', { outcome: 'delivered' }),
        ),
        bundleRecordsForeign: per(
          counterDelta(gwBefore, gwAfter, 'chat_router_bundle_records_total', { outcome: 'foreign' }),
        ),
        droppedCopies: per(counterDelta(gwBefore, gwAfter, 'chat_router_duplicate_deliveries_total')),
        persisterPublishes: per(
          counterDelta([before[GATEWAYS]!], [after[GATEWAYS]!], 'chat_router_publishes_total', {
            kind: 'dispatch',
            outcome: 'ok',
          }),
        ),
        framesPerMember: per(counterDelta(gwBefore, gwAfter, 'chat_gateway_deliveries_total')) / MEMBERS,
      };
      return {
        rate,
        durationS,
        sent: sender.sent,
        sentPerSec: sender.sent / (run.ms / 1000),
        acked: sender.respOk,
        responseErrors: sender.respErr,
        members,
        refused,
        unanswered,
        expectedCopies: (sender.sent - refused) * MEMBERS,
        copies,
        lostCopies,
        missingAtGrace: atGrace.lostCopies,
        drainedS,
        incompleteMessages: incomplete,
        duplicates: reports.reduce((n, r) => n + r.duplicates, 0),
        deliveredPerSec: inWindow / durationS,
        toLast: summarize(toLast),
        perDelivery: summarize(perDelivery),
        clientFramesPerMemberMessage:
          reports.reduce((n, r) => n + r.frames, 0) / Math.max(1, (sender.sent - refused) * MEMBERS),
        broker,
        cpu: reading,
        quietStart: quiet.quiet,
      };
    };

    console.log(`warm-up: ${WARMUP_S} s at 10 msg/s (fills the membership cache), not reported`);
    await step('warm', 10, WARMUP_S);
    console.log(`W2: ${RATES.join(', ')} msg/s into the group, ${STEP_S} s each, ${SENDERS} sender(s)`);
    for (const rate of RATES) {
      const r = await step(`r${rate}`, rate, STEP_S);
      steps.push(r);
      console.log(
        `  R ${String(rate).padStart(4)}: sent ${fmt(r.sentPerSec)}/s delivered ${fmt(r.deliveredPerSec)}/s  ` +
          `to last member p50 ${fmt(r.toLast.p50Ms)} p99 ${fmt(r.toLast.p99Ms)} max ${fmt(r.toLast.maxMs)} ms  ` +
          `lost copies ${r.lostCopies}  AMQP msgs/group msg ${fmt(r.broker.gatewayMessages)}  ` +
          `gw ${[0, 1, 2].map((g) => pct(r.cpu.percent[`gw${g}`])).join('/')} broker ${pct(r.cpu.percent.broker)}`,
      );
    }

    // ---- report -------------------------------------------------------------------------------
    const latencyTable = formatTable(
      [
        'R msg/s',
        'sent/s',
        'deliveries/s',
        'to last member p50 ms',
        'p99 ms',
        'max ms',
        'per delivery p50 ms',
        'p99 ms',
        'max ms',
        'members ready',
        'sent',
        'acked',
        'refused',
        'unanswered',
        'missing at +5 s',
        'lost copies',
        'incomplete msgs',
        'dup copies',
        `p99 < ${TARGET_P99_MS} ms, no loss`,
      ],
      steps.map((s) => [
        s.rate,
        s.sentPerSec,
        s.deliveredPerSec,
        s.toLast.p50Ms,
        s.toLast.p99Ms,
        s.toLast.maxMs,
        s.perDelivery.p50Ms,
        s.perDelivery.p99Ms,
        s.perDelivery.maxMs,
        s.members,
        s.sent,
        s.acked,
        s.refused,
        s.unanswered,
        s.missingAtGrace,
        s.lostCopies,
        s.incompleteMessages,
        s.duplicates,
        s.missingAtGrace === 0 && s.toLast.p99Ms < TARGET_P99_MS,
      ]),
    );
    const brokerTable = formatTable(
      [
        'R msg/s',
        'gateways holding members',
        'AMQP msgs to gateway queues / group msg',
        'records to gateway handlers / group msg',
        'bundle records delivered / msg',
        'bundle records foreign / msg',
        'dropped extra copies / msg',
        'persister dispatch publishes / msg',
        'frames / member / msg (gateways)',
        'frames / member / msg (clients)',
      ],
      steps.map((s) => [
        s.rate,
        gatewaysHoldingMembers,
        s.broker.gatewayMessages,
        s.broker.gatewayRecords,
        s.broker.bundleRecordsDelivered,
        s.broker.bundleRecordsForeign,
        s.broker.droppedCopies,
        s.broker.persisterPublishes,
        s.broker.framesPerMember,
        s.clientFramesPerMemberMessage,
      ]),
    );
    const cpuNames = Object.keys(procs);
    const cpuTable = formatTable(
      ['R msg/s', ...cpuNames, 'all measured', 'other CPU'],
      steps.map((s) => {
        const p = s.cpu.percent;
        const sum = Object.values(p).reduce<number>((a, b) => a + (b ?? 0), 0);
        return [s.rate, ...cpuNames.map((n) => pct(p[n])), pct(sum), pct(s.cpu.others)];
      }),
    );
    console.log(`\n${latencyTable}\n\n${brokerTable}\n\n${cpuTable}\n`);
    const atTarget = steps.find((s) => s.rate === TARGET_RATE);
    const notes = [
      atTarget
        ? `Target (issue #9): p99 send → every member < ${TARGET_P99_MS} ms at ${TARGET_RATE} msg/s: ` +
          `**${atTarget.missingAtGrace === 0 && atTarget.toLast.p99Ms < TARGET_P99_MS ? 'met' : 'not met'}** ` +
          `(p99 ${fmt(atTarget.toLast.p99Ms)} ms, ${fmt(atTarget.missingAtGrace)} member copies missing ${GRACE_MS / 1000} s after the step, ${fmt(atTarget.lostCopies)} never delivered).`
        : `The target rate (${TARGET_RATE} msg/s) was not in this run.`,
      `One group of ${MEMBERS} members, written into the store as registration and the HTTP API would leave it (account rows, a channel row, member rows; tokens signed with the run's secret) — ` +
        'not through the API: it takes at most 100 recipients at creation, and every further add re-reads the member list and announces the add to every member. ' +
        `u<n> on gateway n mod ${GATEWAYS}, one load-generator process per gateway (127.0.0.31–33, raw \`ws\` clients). ` +
        `${SENDERS} sender(s) (u0${SENDERS > 1 ? ', u3, …' : ''}, on gw0) post message.create into the group in turn, paced by a 5 ms timer (open loop); ~100-byte contents.`,
      `to last member = send (loader clock) → the copy of the LAST member to receive it, over the messages every member received; per delivery = send → each member's copy (the sender's own echo included). ` +
        `missing at +5 s = member copies of the messages not refused that were not received ${GRACE_MS / 1000} s after the step (docs/benchmarks.md's loss); lost copies = those still missing once the persist and gateway queues were empty (≤ ${DRAIN_LIMIT_MS / 1000} s later): the rest arrived late; latencies include late copies; refused = message.create answered with an error ` +
        `(codes seen: ${[...new Set(steps.flatMap((s) => Object.keys(s.responseErrors)))].join(', ') || 'none'}; \`overloaded\` = shed by the gateway's admission control, nothing stored; the loader never retries); incomplete msgs = messages at least one member missed; members ready = member sockets still identified after the step (a gateway closes a slow consumer with 4008). deliveries/s = unique copies received during the send window / its length.`,
      'Broker per group message (per message stored: refused ones excluded), from the routers’ counters over the step and its grace period (all three gateways summed): AMQP msgs = chat_router_consumed_messages_total{queue="gateway"} ' +
        '(a dispatch bundle counts once; must equal the gateways holding members when each message travels alone, less when the persister bundles several messages of one batch); ' +
        'records = chat_router_deliveries_total{queue="gateway"} (dispatches handed to the gateways’ handlers: one per gateway per message); bundle records = chat_router_bundle_records_total; ' +
        'frames / member / msg (gateways) = chat_gateway_deliveries_total / (messages stored × members), (clients) = MESSAGE_CREATE frames of the step the clients received / (messages stored × members).',
      'Gateways run with their defaults except the abuse limits (RATE_FRAMES/RATE_BURST/USER_RATE_REQUESTS/HTTP_RATE_REQUESTS raised: they would throttle the sender), ' +
        'MAX_INFLIGHT_WRITES_PER_CONNECTION = 256 (the gateway-wide MAX_INFLIGHT_WRITES, default 256, stays: one connection sends every message) and DEFAULT_GROUP off; ' +
        'the persister with its defaults. The gateways have no group-size limit of their own.',
      'CPU columns: % of one core over the send window; the machine has 2 cores (200%).',
      STAND_IN_NOTE,
      otherLoadNote(steps.map((s) => s.cpu)),
    ];
    for (const n of notes) console.log(`- ${n}`);
    console.log(
      `W2-SUMMARY ${JSON.stringify(
        steps.map((s) => ({
          rate: s.rate,
          sent: s.sent,
          acked: s.acked,
          refused: s.refused,
          members: s.members,
          copies: s.copies,
          expectedCopies: s.expectedCopies,
          lostCopies: s.lostCopies,
          missingAtGrace: s.missingAtGrace,
          toLastP99Ms: s.toLast.p99Ms,
          gatewayMessages: s.broker.gatewayMessages,
          gatewayRecords: s.broker.gatewayRecords,
        })),
      )}`,
    );
    const results: ScenarioOutcome['results'] = {
      title: 'W2 — group fan-out through the whole system',
      description:
        `3 gateway processes, a persister, one group of ${MEMBERS} WebSocket members (a third on each gateway); one sender posts into the group at R msg/s. ` +
        'Send → last member and send → each member latency, loss, broker messages per group message, frames per member, CPU per process. ' +
        '**MongoDB is the in-memory stand-in, not MongoDB.**',
      system,
      params: {
        rates: RATES,
        stepS: STEP_S,
        members: MEMBERS,
        senders: SENDERS,
        gateways: GATEWAYS,
        graceMs: GRACE_MS,
        quick,
      },
      tables: [
        { heading: 'Latency and loss per rate', markdown: latencyTable },
        { heading: 'Broker messages and frames per group message', markdown: brokerTable },
        { heading: 'CPU per process over the send window (% of one core)', markdown: cpuTable },
      ],
      notes,
      data: { steps, groupId, gatewaysHoldingMembers },
    };
    const failed = steps.filter((s) => s.lostCopies > 0 || s.sent === 0);
    return { code: failed.length > 0 ? 1 : 0, results };
  } finally {
    await stopLoaders(loadgens);
    for (const g of gateways) await g.stop('SIGTERM', 20_000).catch(() => {});
    await persister?.stop('SIGTERM', 20_000).catch(() => {});
    await cleanupRun(BROKER, prefix, serverIds, channelIds).catch((err: unknown) =>
      console.error(`cleanup of ${prefix} failed: ${(err as Error).message}`),
    );
    await mongo.stop().catch(() => {});
  }
}

scenario.run(main);
