// docs/benchmarks.md W3 — idle connections: the resident memory (VmRSS) of ONE gateway process before and
// after N idle, identified WebSocket clients (default 10,000), opened from several load-generator
// processes (≤ 5,000 sockets each, each from its own 127.0.0.x source address); KiB per connection.
// Then as many as one gateway can hold on this machine (50,000 asked; the open-file limit decides).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createTokenService, DEFAULT_GROUP_ID } from '@chat/gateway';
import { SnowflakeGenerator } from '@chat/router';
import { amqpUrl } from '@chat/testkit';
import { MongoClient } from 'mongodb';
import { ChildHandle } from './lib/child.js';
import { scrape } from './lib/prom.js';
import { defineScenario, type ScenarioOutcome } from './lib/scenario.js';
import {
  cleanupRun,
  type GatewayService,
  REDIS_URL,
  redisPid,
  runPrefix,
  STAND_IN_NOTE,
  type StackEnv,
  startGateway,
  startMongoProcess,
} from './lib/services.js';
import { sleep } from './lib/stats.js';
import { CpuMeter, type CpuReading, otherLoadNote, printSystem, systemBrokerPid, waitForQuiet } from './lib/system.js';
import { fmt, formatTable, pct } from './lib/table.js';
import type { BenchUser } from './lib/users.js';

const scenario = defineScenario({
  name: 'w3',
  summary:
    'W3: gateway memory per idle identified connection (1 and many sockets per user), and the most one gateway holds',
  flags: {
    connections: { type: 'int', default: 10_000, min: 10, max: 100_000, help: 'idle connections per shape' },
    'max-target': { type: 'int', default: 50_000, min: 100, max: 200_000, help: 'connections tried in the max step' },
    many: { type: 'int', default: 100, min: 2, max: 10_000, help: 'sockets per user in the "many" shape' },
    'idle-s': { type: 'int', default: 10, min: 1, max: 300, help: 'seconds idle before the reading' },
    'default-group': { type: 'string', default: 'official', help: 'DEFAULT_GROUP of the gateway (every user in it)' },
    'skip-max': { type: 'boolean', help: 'skip the max step' },
    only: { type: 'string', help: "profiling: only the shape 'one' or 'many'" },
    'gateway-env': { type: 'string', multiple: true, help: 'extra gateway environment KEY=VALUE (repeatable)' },
    'heap-snapshots': { type: 'string', help: 'write gateway heap snapshots into this directory' },
  },
  quick: { connections: 300, many: 30, 'idle-s': 2, 'skip-max': true },
  limitMinutes: 30,
});
const {
  connections: CONNECTIONS,
  'max-target': MAX_TARGET,
  many: MANY,
  'idle-s': IDLE_S,
  'default-group': DEFAULT_GROUP,
  'skip-max': SKIP_MAX,
  only: ONLY,
} = scenario.flags;
const quick = scenario.quick;
const EXTRA_ENV = Object.fromEntries(
  scenario.flags['gateway-env'].map((kv) => {
    const i = kv.indexOf('=');
    return [kv.slice(0, i), kv.slice(i + 1)];
  }),
);
const heapSnapshots = scenario.flags['heap-snapshots'];
const SNAPSHOT_DIR = heapSnapshots === undefined ? undefined : resolve(heapSnapshots);
const PER_LOADGEN = 5000;
/** Seconds between the last close and the after-close reading. */
const AFTER_CLOSE_S = quick ? 5 : 15;
const BROKER = amqpUrl();

interface Step {
  seconds: number;
  ready: number;
  rssKiB: number;
}

interface PhaseResult {
  label: string;
  shape: string;
  users: number;
  perUser: number;
  requested: number;
  ready: number;
  failed: number;
  closes: Record<string, number>;
  errors: Record<string, number>;
  loadgens: number;
  fdLimit: number;
  fdsBefore: number;
  fdsAfter: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  rssAfterCloseKiB: number;
  heapBeforeKiB: number;
  heapAfterKiB: number;
  heapAfterCloseKiB: number;
  heapTotalBeforeKiB: number;
  heapTotalAfterKiB: number;
  externalBeforeKiB: number;
  externalAfterKiB: number;
  kibPerConnection: number;
  heapKibPerConnection: number;
  /** RSS after close relative to RSS before: 1.0 = back to the start. */
  afterCloseRatio: number;
  /** RSS when the last socket had closed plus AFTER_CLOSE_S, before the presence work ended. */
  rssEarlyAfterCloseKiB: number;
  /** Seconds from the last socket's close until the gateway's presence work for the closes was done. */
  presenceSettledS: number;
  gaugeConnections: number;
  connectS: number;
  connectCpu: CpuReading;
  idleCpu: CpuReading;
  steps: Step[];
  snapshots: string[];
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function fdLimit(pid: number): number {
  const m = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

let brokerPid: number | undefined;
let redisServerPid: number | undefined;
let mongoPid: number | undefined;

interface HeapReading {
  usedKiB: number;
  totalKiB: number;
  externalKiB: number;
}

async function heap(gw: GatewayService): Promise<HeapReading> {
  const m = await scrape(`${gw.url}/metrics`, 120_000);
  return {
    usedKiB: m.value('nodejs_heap_size_used_bytes') / 1024,
    totalKiB: m.value('nodejs_heap_size_total_bytes') / 1024,
    externalKiB: m.value('nodejs_external_memory_bytes') / 1024,
  };
}

/**
 * Profiling only (--heap-snapshots): asks the gateway for a heap snapshot (SIGUSR2, written by V8 into
 * the diagnostic directory) and waits until it is written: the gateway answers /metrics again only
 * after the snapshot, which blocks its event loop.
 */
async function snapshot(gw: GatewayService, tag: string): Promise<string | undefined> {
  if (!SNAPSHOT_DIR) return undefined;
  const before = new Set(readdirSync(SNAPSHOT_DIR));
  process.kill(gw.pid, 'SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await sleep(500);
    const fresh = readdirSync(SNAPSHOT_DIR).filter((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (fresh.length > 0) {
      await scrape(`${gw.url}/metrics`, 300_000);
      const named = join(SNAPSHOT_DIR, `${tag}.heapsnapshot`);
      renameSync(join(SNAPSHOT_DIR, fresh[0]!), named);
      console.log(`  heap snapshot ${named}`);
      return named;
    }
  }
  throw new Error('no heap snapshot appeared');
}

interface Shape {
  label: string;
  /** Sockets per user. */
  perUser: number;
}

async function phase(
  label: string,
  shape: Shape,
  gw: GatewayService,
  users: BenchUser[],
  count: number,
): Promise<PhaseResult> {
  await sleep(3000);
  await waitForQuiet({ gateway: gw.pid, standIn: mongoPid }, 60_000);
  const snapshots: string[] = [];
  const s0 = await snapshot(gw, `${label}-before`.replace(/[^A-Za-z0-9_-]+/g, '_'));
  if (s0) snapshots.push(s0);
  const rssBeforeKiB = rssKiB(gw.pid);
  const heapBefore = await heap(gw);
  const fdsBefore = fdCount(gw.pid);
  const nUsers = Math.ceil(count / shape.perUser);
  if (nUsers > users.length) throw new Error(`${label}: ${nUsers} users needed, ${users.length} seeded`);
  const nLoadgens = Math.ceil(count / PER_LOADGEN);
  const loadgens = Array.from(
    { length: nLoadgens },
    (_, i) => new ChildHandle(`lg${i}`, new URL('./lib/ws-loadgen.ts', import.meta.url)),
  );
  try {
    const procs = {
      gateway: gw.pid,
      broker: brokerPid,
      standIn: mongoPid,
      redis: redisServerPid,
      loadgens: loadgens.map((l) => l.pid),
    };
    const connectCpu = new CpuMeter(procs);
    const started = performance.now();
    const steps: Step[] = [{ seconds: 0, ready: 0, rssKiB: rssBeforeKiB }];
    let opening = true;
    const sampler = (async () => {
      while (opening) {
        await sleep(1000);
        // A busy load generator (shared machine) may answer late: skip that sample rather than fail.
        const statuses = await Promise.all(loadgens.map((l) => l.call<{ ready: number }>('status', {}, 30_000))).catch(
          () => undefined,
        );
        if (!statuses) continue;
        steps.push({
          seconds: (performance.now() - started) / 1000,
          ready: statuses.reduce((n, s) => n + s.ready, 0),
          rssKiB: rssKiB(gw.pid),
        });
      }
    })();
    const opened = await Promise.all(
      loadgens.map((lg, i) => {
        const share = Math.min(PER_LOADGEN, count - i * PER_LOADGEN);
        const clients = Array.from({ length: share }, (_, j) => {
          // Socket k belongs to user floor(k / perUser): a user's sockets are opened one after another.
          const u = users[Math.floor((i * PER_LOADGEN + j) / shape.perUser)]!;
          return { token: u.token, user: u.n };
        });
        return lg.call<{
          ready: number;
          closed: number;
          closes: Record<string, number>;
          errors: Record<string, number>;
        }>('open', { url: gw.wsUrl, localAddress: `127.0.0.${11 + i}`, clients, concurrency: 200 }, 10 * 60_000);
      }),
    );
    opening = false;
    await sampler;
    const connectS = (performance.now() - started) / 1000;
    const connectReading = connectCpu.stop();
    const ready = opened.reduce((n, o) => n + o.ready, 0);
    const merge = (key: 'closes' | 'errors') => {
      const out: Record<string, number> = {};
      for (const o of opened) for (const [k, v] of Object.entries(o[key])) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    console.log(`  ${label}: ${ready} of ${count} identified in ${fmt(connectS)} s; idle ${IDLE_S} s`);

    const idleCpu = new CpuMeter(procs);
    await sleep(IDLE_S * 1000);
    const idleReading = idleCpu.stop();
    const rssAfterKiB = rssKiB(gw.pid);
    const heapAfter = await heap(gw);
    const fdsAfter = fdCount(gw.pid);
    const gaugeConnections = (await scrape(`${gw.url}/metrics`)).value('chat_gateway_connections');
    steps.push({ seconds: (performance.now() - started) / 1000, ready, rssKiB: rssAfterKiB });
    const s1 = await snapshot(gw, `${label}-after`.replace(/[^A-Za-z0-9_-]+/g, '_'));
    if (s1) snapshots.push(s1);
    const statuses = await Promise.all(
      loadgens.map((l) => l.call<{ ready: number; closes: Record<string, number> }>('status')),
    );
    const stillReady = statuses.reduce((n, s) => n + s.ready, 0);
    if (stillReady < ready) console.warn(`  ${ready - stillReady} connections closed while idle`);

    await Promise.all(loadgens.map((l) => l.call('close', { timeoutMs: 30_000 }, 60_000)));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await scrape(`${gw.url}/metrics`)).value('chat_gateway_connections') > 0) {
      await sleep(250);
    }
    // Presence: a user whose last socket closed leaves after the gateway's offline grace (5 s), and its
    // offline announcement reads its channels (16 users at a time). "After close" is the state once the
    // gateway has done what the closes asked of it: wait until the presence counters have not moved for
    // 3 s (and the grace is over; ≤ 180 s). The RSS at the old point (AFTER_CLOSE_S after the last
    // close, whatever was still running) is reported too.
    const closedAt = Date.now();
    let lastPresence = -1;
    let stableSince = closedAt;
    let earlyRssKiB: number | undefined;
    while (Date.now() - closedAt < 180_000) {
      if (earlyRssKiB === undefined && Date.now() - closedAt >= AFTER_CLOSE_S * 1000) earlyRssKiB = rssKiB(gw.pid);
      const total = (await scrape(`${gw.url}/metrics`)).value('chat_gateway_presence_total');
      if (total !== lastPresence) {
        lastPresence = total;
        stableSince = Date.now();
      } else if (Date.now() - stableSince >= 3000 && Date.now() - closedAt >= 6000) break;
      await sleep(250);
    }
    const presenceSettledS = (Date.now() - closedAt) / 1000;
    // The bindings linger ATTACH_LINGER_MS (2 s) after the last socket of a user; then give the
    // process the time V8's memory reducer waits before it collects and releases an idle heap.
    await sleep(AFTER_CLOSE_S * 1000);
    const rssAfterCloseKiB = rssKiB(gw.pid);
    const rssEarlyAfterCloseKiB = earlyRssKiB ?? rssAfterCloseKiB;
    const s2 = await snapshot(gw, `${label}-after-close`.replace(/[^A-Za-z0-9_-]+/g, '_'));
    if (s2) snapshots.push(s2);
    const heapAfterClose = await heap(gw);
    return {
      label,
      shape: shape.label,
      users: nUsers,
      perUser: shape.perUser,
      requested: count,
      ready,
      failed: count - ready,
      closes: merge('closes'),
      errors: merge('errors'),
      loadgens: nLoadgens,
      fdLimit: fdLimit(gw.pid),
      fdsBefore,
      fdsAfter,
      rssBeforeKiB,
      rssAfterKiB,
      rssAfterCloseKiB,
      rssEarlyAfterCloseKiB,
      presenceSettledS,
      heapBeforeKiB: heapBefore.usedKiB,
      heapAfterKiB: heapAfter.usedKiB,
      heapAfterCloseKiB: heapAfterClose.usedKiB,
      heapTotalBeforeKiB: heapBefore.totalKiB,
      heapTotalAfterKiB: heapAfter.totalKiB,
      externalBeforeKiB: heapBefore.externalKiB,
      externalAfterKiB: heapAfter.externalKiB,
      kibPerConnection: (rssAfterKiB - rssBeforeKiB) / Math.max(1, ready),
      heapKibPerConnection: (heapAfter.usedKiB - heapBefore.usedKiB) / Math.max(1, ready),
      afterCloseRatio: rssAfterCloseKiB / rssBeforeKiB,
      gaugeConnections,
      connectS,
      connectCpu: connectReading,
      idleCpu: idleReading,
      steps,
      snapshots,
    };
  } finally {
    await Promise.all(loadgens.map((l) => l.stop(10_000)));
  }
}

/** A few rows of the RSS curve: the samples nearest to each quarter of the target. */
function curve(p: PhaseResult): Step[] {
  const marks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * p.ready));
  const rows: Step[] = [];
  for (const m of marks) {
    const s = p.steps.reduce((a, b) => (Math.abs(b.ready - m) < Math.abs(a.ready - m) ? b : a), p.steps[0]!);
    if (!rows.includes(s)) rows.push(s);
  }
  return rows;
}

/**
 * Users of this run, made as registration leaves them for IDENTIFY: an id, a JWT of the run's secret,
 * and (seedUsers) an account row plus a member row of the default group — what ChatService.register
 * adds, without scrypt (nobody logs in as them; thousands of hashes would take minutes): registration
 * itself is not what W3 measures.
 */
async function makeUsers(secret: string, count: number): Promise<BenchUser[]> {
  const tokens = createTokenService(secret, 86_400);
  const ids = new SnowflakeGenerator({ workerId: 1023 });
  const users: BenchUser[] = [];
  for (let n = 0; n < count; n++) users.push({ n, id: await ids.next(), username: `u${n}`, token: '' });
  // Signing runs on libuv's thread pool (WebCrypto HMAC): a few hundred at a time.
  for (let i = 0; i < count; i += 500) {
    await Promise.all(
      users.slice(i, i + 500).map(async (u) => {
        u.token = await tokens.sign({ userId: u.id, username: u.username });
      }),
    );
  }
  return users;
}

/** Each phase has a database of its own holding exactly its users (the stand-in scans collections). */
async function seedUsers(mongoUrl: string, db: string, users: readonly BenchUser[]): Promise<void> {
  const client = new MongoClient(mongoUrl);
  try {
    await client.connect();
    const accounts = client.db(db).collection<{ _id: string }>('users');
    const members = client.db(db).collection('members');
    const joined = new Date();
    for (let i = 0; i < users.length; i += 1000) {
      const batch = users.slice(i, i + 1000);
      // IDENTIFY checks the token's version against the account row (revocation): the row must exist.
      await accounts.insertMany(
        batch.map((u) => ({
          _id: u.id,
          username: u.username,
          username_key: u.username.toLowerCase(),
          password_hash: NO_PASSWORD,
          created_at: joined,
        })),
      );
      if (DEFAULT_GROUP) {
        await members.insertMany(
          batch.map((u) => ({ channel_id: DEFAULT_GROUP_ID, user_id: u.id, joined_at: joined })),
        );
      }
    }
  } finally {
    await client.close();
  }
}

/** The password hash of seeded accounts: well-formed, matches no password (nobody logs in as them). */
const NO_PASSWORD = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AA==';

async function main(): Promise<ScenarioOutcome> {
  const system = (await printSystem(BROKER)).line;
  brokerPid = await systemBrokerPid();
  redisServerPid = await redisPid();
  console.log(`Note: ${STAND_IN_NOTE}`);
  if (SNAPSHOT_DIR) mkdirSync(SNAPSHOT_DIR, { recursive: true });

  const prefix = runPrefix('w3');
  const secret = randomBytes(32).toString('hex');
  const mongo = await startMongoProcess();
  mongoPid = mongo.pid;
  const stack: StackEnv = {
    prefix,
    amqpUrl: BROKER,
    mongoUrl: mongo.url,
    mongoDb: prefix.replace(/-/g, '_'),
    redisUrl: REDIS_URL,
  };
  // The shipped configuration (default group on unless --default-group ''); no HTTP limits for set-up.
  const gatewayEnv: Record<string, string> = {
    DEFAULT_GROUP,
    // glibc settings of the shipped launchers (infra/docker/Dockerfile, scripts/start.mjs).
    MALLOC_ARENA_MAX: '2',
    MALLOC_TRIM_THRESHOLD_: '131072',
    HTTP_RATE_REQUESTS: '1000000',
    USER_RATE_REQUESTS: '1000000',
    ...EXTRA_ENV,
    ...(SNAPSHOT_DIR ? { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${SNAPSHOT_DIR}` } : {}),
  };
  const serverIds: string[] = [];
  const gateways: GatewayService[] = [];
  const phases: PhaseResult[] = [];
  let maxNote = '';
  let seq = 0;
  const shapes: Shape[] = [
    { label: '1 socket per user', perUser: 1 },
    { label: `${MANY} sockets per user`, perUser: MANY },
  ];
  try {
    let maxCount = 0;
    if (!SKIP_MAX) {
      const lim = fdLimit(process.pid);
      const used = 40; // what a gateway holds before its first client (listen socket, broker, Redis, MongoDB, stdio)
      maxCount = Math.min(MAX_TARGET, lim - used - 200);
      maxNote =
        maxCount < MAX_TARGET
          ? `${fmt(MAX_TARGET)} connections on one gateway are not possible here: the open-file limit is ${fmt(lim)} ` +
            `(hard limit, not raisable in this environment) and a gateway uses ~${used} descriptors before its first client, so the largest count tried was ${fmt(maxCount)}.`
          : `${fmt(maxCount)} connections tried on one gateway.`;
      console.log(`  ${maxNote}`);
    }
    const nUsers = Math.max(CONNECTIONS, maxCount);
    console.log(`making ${nUsers} users (default group ${DEFAULT_GROUP ? `'${DEFAULT_GROUP}' on` : 'off'})`);
    const users = await makeUsers(secret, nUsers);

    for (const count of SKIP_MAX ? [CONNECTIONS] : [CONNECTIONS, maxCount]) {
      for (const shape of shapes) {
        if (ONLY && !shape.label.startsWith(ONLY === 'one' ? '1 ' : `${MANY} `)) continue;
        // A fresh gateway and database per phase, so that every "before" is a clean process.
        const id = `gw${seq++}`;
        const db = `${stack.mongoDb}_${id}`;
        const phaseUsers = users.slice(0, Math.ceil(count / shape.perUser));
        await seedUsers(stack.mongoUrl, db, phaseUsers);
        const gw = await startGateway({ ...stack, mongoDb: db }, id, secret, gatewayEnv);
        serverIds.push(id);
        gateways.push(gw);
        try {
          phases.push(await phase(`${count} idle, ${shape.label}`, shape, gw, phaseUsers, count));
        } catch (err) {
          console.error(`${id} log tail:\n${gw.logs.slice(-20).join('\n')}`);
          throw err;
        }
        await gw.stop('SIGTERM', 20_000);
      }
    }

    const table = formatTable(
      [
        'phase',
        'identified',
        'users',
        'failed',
        'RSS before MiB',
        'RSS after MiB',
        'KiB per conn (RSS)',
        'heap KiB per conn',
        `RSS ${AFTER_CLOSE_S} s after close MiB`,
        'presence done s',
        'RSS after close MiB',
        'after close / before',
        'fds after / limit',
        'connect s',
        'conn/s',
      ],
      phases.map((p) => [
        p.label,
        p.ready,
        p.users,
        p.failed,
        p.rssBeforeKiB / 1024,
        p.rssAfterKiB / 1024,
        p.kibPerConnection,
        p.heapKibPerConnection,
        p.rssEarlyAfterCloseKiB / 1024,
        p.presenceSettledS,
        p.rssAfterCloseKiB / 1024,
        p.afterCloseRatio,
        `${p.fdsAfter} / ${p.fdLimit}`,
        p.connectS,
        p.ready / p.connectS,
      ]),
    );
    const heapTable = formatTable(
      [
        'phase',
        'heap used before MiB',
        'heap used after MiB',
        'heap used after close MiB',
        'heap total before MiB',
        'heap total after MiB',
        'external before MiB',
        'external after MiB',
      ],
      phases.map((p) => [
        p.label,
        p.heapBeforeKiB / 1024,
        p.heapAfterKiB / 1024,
        p.heapAfterCloseKiB / 1024,
        p.heapTotalBeforeKiB / 1024,
        p.heapTotalAfterKiB / 1024,
        p.externalBeforeKiB / 1024,
        p.externalAfterKiB / 1024,
      ]),
    );
    const cpuTable = formatTable(
      [
        'phase',
        'interval',
        'seconds',
        'gateway CPU',
        'broker CPU',
        'stand-in CPU',
        'redis CPU',
        'load gens CPU',
        'other CPU',
      ],
      phases.flatMap((p) =>
        (
          [
            ['connect + identify', p.connectCpu],
            [`idle (heartbeats)`, p.idleCpu],
          ] as const
        ).map(([what, r]) => [
          p.label,
          what,
          r.wallMs / 1000,
          pct(r.percent.gateway),
          pct(r.percent.broker),
          pct(r.percent.standIn),
          pct(r.percent.redis),
          pct(r.percent.loadgens),
          pct(r.others),
        ]),
      ),
    );
    const curveTable = formatTable(
      ['phase', 'seconds', 'identified', 'gateway RSS MiB'],
      phases.flatMap((p) => curve(p).map((s) => [p.label, s.seconds, s.ready, s.rssKiB / 1024])),
    );
    console.log(`\n${table}\n\n${heapTable}\n\n${curveTable}\n\n${cpuTable}\n`);
    const notes = [
      `One gateway process (uWebSockets.js), a fresh one per phase; every client sent IDENTIFY with a JWT and got READY (its user attached), then only heartbeats. ` +
        `Shapes: one socket per user (as many users as sockets), and ${MANY} sockets per user (one user, many connections).`,
      DEFAULT_GROUP
        ? `Default group '${DEFAULT_GROUP}' on (the shipped configuration): every user is a member, so every socket is in one channel with all the others and READY lists it.`
        : `Default group disabled (--default-group '').`,
      'Users: seeded into the store as registration leaves them (an account row without a usable password, and a member row of the default group; IDENTIFY checks the JWT against the token version of the account and reads the memberships); tokens are JWTs of the run secret. Each phase has a database of its own with exactly its users.',
      ...(Object.keys(EXTRA_ENV).length > 0 ? [`Gateway environment added: ${JSON.stringify(EXTRA_ENV)}.`] : []),
      `RSS = VmRSS from /proc/<pid>/status of a freshly started gateway, 3 s after start, again after the idle period, again ${AFTER_CLOSE_S} s after every socket closed, and "after close": once the gateway's presence work for the closes is done (its counters still for 3 s: offline grace 5 s, then each user's offline announcement) plus ${AFTER_CLOSE_S} s; heap = nodejs_heap_size_used_bytes from the gateway /metrics (V8 heap only; uWS socket buffers live outside it). No forced GC: garbage not yet collected counts. The gateway runs from source through tsx, as the e2e stack does; the loader adds to the base RSS, not to the per-connection delta.`,
      'The gateway runs with the glibc settings of the shipped launchers (MALLOC_ARENA_MAX=2, MALLOC_TRIM_THRESHOLD_=131072).',
      'Load generators: `ws` clients, ≤ 5,000 sockets per process, process i binds 127.0.0.(11+i) as its source address.',
      ...(maxNote ? [maxNote] : []),
      ...(SNAPSHOT_DIR
        ? ['Profiling run (--heap-snapshots): each snapshot forces a full GC and blocks the gateway.']
        : []),
      STAND_IN_NOTE,
      otherLoadNote(phases.flatMap((p) => [p.connectCpu, p.idleCpu])),
    ];
    for (const n of notes) console.log(`- ${n}`);
    const failures = phases
      .filter((p) => p.failed > 0)
      .map(
        (p) =>
          `${p.label}: ${p.failed} of ${p.requested} not identified (closes ${JSON.stringify(p.closes)}, errors ${JSON.stringify(p.errors)})`,
      );
    for (const f of failures) console.error(`FAILED: ${f}`);
    // One machine-readable line for the CI smoke test (bench/test): the run completed and what it measured.
    console.log(
      `W3-SUMMARY ${JSON.stringify(
        phases.map((p) => ({
          label: p.label,
          perUser: p.perUser,
          requested: p.requested,
          ready: p.ready,
          kibPerConnection: p.kibPerConnection,
          heapKibPerConnection: p.heapKibPerConnection,
          rssBeforeKiB: p.rssBeforeKiB,
          rssAfterKiB: p.rssAfterKiB,
          rssAfterCloseKiB: p.rssAfterCloseKiB,
        })),
      )}`,
    );
    return {
      code: failures.length > 0 ? 1 : 0,
      results: {
        title: 'W3 — idle connections: gateway memory per connection',
        description:
          'VmRSS of one gateway process before and after N idle identified WebSocket clients, opened from several load-generator ' +
          'processes with their own 127.0.0.x source addresses; then the largest count one gateway can hold here.',
        system,
        params: {
          connections: CONNECTIONS,
          maxTarget: MAX_TARGET,
          many: MANY,
          defaultGroup: DEFAULT_GROUP,
          idleS: IDLE_S,
          perLoadgen: PER_LOADGEN,
          quick,
        },
        tables: [
          { heading: 'Memory per connection', markdown: table },
          { heading: 'V8 heap', markdown: heapTable },
          { heading: 'RSS while connecting', markdown: curveTable },
          { heading: 'CPU (% of one core)', markdown: cpuTable },
        ],
        notes: [...notes, ...failures.map((f) => `FAILED: ${f}`)],
        data: phases,
      },
    };
  } finally {
    for (const g of gateways) await g.stop('SIGKILL', 5000).catch(() => {});
    // The membership cache keys are under `<prefix>:` (removed with the run's keys).
    await cleanupRun(BROKER, prefix, serverIds, []).catch((err: unknown) =>
      console.error(`cleanup of ${prefix} failed: ${(err as Error).message}`),
    );
    await mongo.stop().catch(() => {});
  }
}

scenario.run(main);
