// The HTTP API under autocannon: login (POST /api/sessions, a scrypt per request), history pages
// (GET /api/channels/:id/messages?before=…&limit=50, each connection walking back page by page through
// weeks of seeded history across several 10-day buckets, then starting over) and sends
// (POST /api/channels/:id/messages, answered after the broker confirmed the durable write), each at
// fixed connection counts. Reports req/s, latency p50/p90/p99/max and the status-code mix per
// endpoint. It starts its own system (bench/lib/http-stack.ts: stand-in MongoDB, persister, 2
// gateways with the abuse limits raised, nginx from the shipped template) and targets nginx; no
// `npm start` needed. Full runs save JSON + Markdown under bench/results/ (http); --quick takes seconds.
import { writeFileSync } from 'node:fs';
import { bucketOf } from '@chat/router';
import autocannon, { type Request, type Result } from 'autocannon';
import { BENCH_PASSWORD, type SignedUp, signUpAll } from './lib/http-client.js';
import { seedHistory } from './lib/http-seed.js';
import { startHttpStack } from './lib/http-stack.js';
import { defineScenario, type ScenarioOutcome } from './lib/scenario.js';
import { STAND_IN_NOTE } from './lib/services.js';
import { printSystem } from './lib/system.js';
import { fmt, formatTable } from './lib/table.js';

const scenario = defineScenario({
  name: 'http',
  summary:
    'The HTTP API under autocannon: login, history pages, sends at fixed connection counts, against a system it starts',
  flags: {
    connections: { type: 'ints', default: [10, 50], min: 1, max: 5000, help: 'connection counts, one run each' },
    'duration-s': { type: 'int', default: 20, min: 1, max: 600, help: 'seconds per run (full runs)' },
    messages: { type: 'int', default: 20_000, min: 100, max: 10_000_000, help: 'seeded history messages' },
    users: { type: 'int', default: 10, min: 2, max: 1000, help: 'users registered' },
    'json-out': { type: 'string', help: 'also write the data to this file' },
  },
  quick: { connections: [5], 'duration-s': 2, messages: 300 },
  limitMinutes: 30,
});
const { connections: CONNECTIONS, 'duration-s': DURATION_S, messages: MESSAGES, users: USERS } = scenario.flags;
const quick = scenario.quick;
const SPAN_DAYS = 56;
const PAGE = 50;
/**
 * --quick counts requests per connection instead of running for a time, so that what the smoke test
 * checks does not depend on the machine's speed: each history connection walks the whole history once.
 */
const QUICK_REQUESTS: Record<string, number> = { login: 2, history: Math.ceil(MESSAGES / PAGE) + 1, send: 10 };
const AMQP = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';

/** What a history walk saw: pages answered, walks finished (reached the oldest message), buckets crossed. */
interface Walk {
  pages: number;
  walks: number;
  buckets: Set<number>;
  deepest: number;
}

interface EndpointRun {
  endpoint: string;
  connections: number;
  result: Result;
}

/**
 * One request list per endpoint. autocannon clears a connection's context each time it wraps around
 * its request list, so the history list repeats its request once per page of the whole history:
 * a connection's walk (its `before` cursor in the context) then runs to the oldest message.
 */
function endpoints(channelId: string, users: readonly SignedUp[], walk: Walk): Record<string, Request[]> {
  const auth = (context: Record<string, unknown>) => {
    const n = ((context.n as number | undefined) ?? Math.floor(Math.random() * users.length)) + 1;
    context.n = n;
    return users[n % users.length]!;
  };
  const login: Request = {
    method: 'POST',
    path: '/api/sessions',
    setupRequest: (req, context) => {
      const u = auth(context);
      return {
        ...req,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: u.username, password: BENCH_PASSWORD }),
      };
    },
  };
  const history: Request = {
    method: 'GET',
    setupRequest: (req, context) => {
      const before = context.before as string | undefined;
      return {
        ...req,
        path: `/api/channels/${channelId}/messages?limit=${PAGE}${before ? `&before=${before}` : ''}`,
        headers: { authorization: `Bearer ${auth(context).token}` },
      };
    },
    onResponse: (status, body, context) => {
      if (status !== 200) return;
      walk.pages++;
      const page = JSON.parse(body) as Array<{ id: string }>;
      const oldest = page.at(-1)?.id;
      const depth = ((context.depth as number | undefined) ?? 0) + 1;
      walk.deepest = Math.max(walk.deepest, depth);
      for (const m of [page[0], page.at(-1)]) if (m) walk.buckets.add(bucketOf(m.id));
      if (!oldest || page.length < PAGE) {
        walk.walks++;
        context.before = undefined;
        context.depth = 0;
      } else {
        context.before = oldest;
        context.depth = depth;
      }
    },
  };
  const send: Request = {
    method: 'POST',
    path: `/api/channels/${channelId}/messages`,
    setupRequest: (req, context) => ({
      ...req,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${auth(context).token}` },
      body: JSON.stringify({ content: `autocannon ${Date.now()}` }),
    }),
  };
  return {
    login: [login],
    history: Array.from({ length: Math.ceil(MESSAGES / PAGE) + 1 }, () => history),
    send: [send],
  };
}

const statusMix = (r: Result) =>
  Object.entries(r.statusCodeStats)
    .map(([code, s]) => `${code}: ${fmt(Number(s.count))}`)
    .join(', ');

scenario.run(async (): Promise<ScenarioOutcome> => {
  const system = (await printSystem(AMQP)).line;
  console.log(
    `HTTP API under autocannon: login, history, send at ${CONNECTIONS.join(', ')} connections, ${quick ? 'a fixed number of requests' : `${DURATION_S} s`} each`,
  );
  // Ctrl-C: the running autocannon stops, no further run starts, and the stack is stopped as usual.
  let interrupted = false;
  let running: ReturnType<typeof autocannon> | undefined;
  process.on('SIGINT', () => {
    interrupted = true;
    running?.stop();
  });
  const stack = await startHttpStack({ label: 'http' });
  let channelIds: string[] = [];
  let exitCode = 0;
  let results: ScenarioOutcome['results'];
  try {
    console.log(`system up behind nginx at ${stack.http} (2 gateways, persister, MongoDB stand-in)`);
    const users = await signUpAll(
      stack.http,
      Array.from({ length: USERS }, (_, n) => `h${n}`),
      4,
    );
    const seeded = await seedHistory({
      mongoUrl: stack.mongoUrl,
      mongoDb: stack.env.mongoDb,
      members: users.map((u) => u.id),
      messages: MESSAGES,
      spanDays: SPAN_DAYS,
    });
    channelIds = [seeded.channelId];
    console.log(
      `seeded ${fmt(seeded.messages)} messages over ${SPAN_DAYS} days (${seeded.buckets} buckets) in ${(seeded.ms / 1000).toFixed(1)} s`,
    );

    const runs: EndpointRun[] = [];
    const walk: Walk = { pages: 0, walks: 0, buckets: new Set(), deepest: 0 };
    const requests = endpoints(seeded.channelId, users, walk);
    for (const [endpoint, request] of Object.entries(requests)) {
      for (const connections of CONNECTIONS) {
        if (interrupted) break;
        running = autocannon({
          url: stack.http,
          connections,
          ...(quick ? { amount: connections * QUICK_REQUESTS[endpoint]! } : { duration: DURATION_S }),
          timeout: 30,
          requests: request,
        });
        const result = await running;
        running = undefined;
        runs.push({ endpoint, connections, result });
        console.log(
          `${endpoint} × ${connections}: ${fmt(result.requests.average)} req/s, p99 ${result.latency.p99} ms, ${statusMix(result)}`,
        );
      }
    }

    const table = formatTable(
      [
        'endpoint',
        'connections',
        'req/s',
        'p50',
        'p90',
        'p99',
        'max',
        'requests',
        'status codes',
        'errors',
        'timeouts',
      ],
      runs.map(({ endpoint, connections, result: r }) => [
        endpoint,
        connections,
        r.requests.average,
        `${r.latency.p50} ms`,
        `${r.latency.p90} ms`,
        `${r.latency.p99} ms`,
        `${r.latency.max} ms`,
        r.requests.total,
        statusMix(r),
        r.errors,
        r.timeouts,
      ]),
    );
    const walkLine = `History: ${fmt(walk.pages)} pages of ${PAGE}, ${fmt(walk.walks)} walks to the oldest message, up to ${walk.deepest} pages deep, ${walk.buckets.size} distinct 10-day buckets reached (of ${seeded.buckets}).`;
    console.log(`\n${system}\n\n${table}\n\n${walkLine}`);

    const data = {
      users: USERS,
      seeded: { messages: seeded.messages, buckets: seeded.buckets, spanDays: SPAN_DAYS },
      walk: { pages: walk.pages, walks: walk.walks, deepest: walk.deepest, buckets: walk.buckets.size },
      runs: runs.map(({ endpoint, connections, result: r }) => ({
        endpoint,
        connections,
        reqPerSec: r.requests.average,
        requests: r.requests.total,
        latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
        statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, Number(v.count)])),
        errors: r.errors,
        timeouts: r.timeouts,
        non2xx: r.non2xx,
      })),
    };
    const jsonOut = scenario.flags['json-out'];
    if (jsonOut !== undefined) writeFileSync(jsonOut, `${JSON.stringify(data, null, 2)}\n`);
    if (!interrupted) {
      results = {
        title: 'HTTP API under autocannon',
        description:
          'Login, history pages walking back through 10-day buckets, and sends, each at fixed connections through nginx to 2 gateways (bench/http.ts).',
        system,
        params: { connections: CONNECTIONS, durationS: DURATION_S, messages: MESSAGES, users: USERS, page: PAGE },
        tables: [{ markdown: table }],
        notes: [
          walkLine,
          'Login costs a scrypt per request (by design); sends are answered after the broker confirmed the durable write.',
          'Gateways run with the abuse limits raised (RATE_FRAMES/RATE_BURST/USER_RATE_REQUESTS/HTTP_RATE_REQUESTS) and no default group; autocannon runs in the benchmark process.',
          STAND_IN_NOTE,
        ],
        data,
      };
    }
  } catch (err) {
    console.error(`http: ${(err as Error).stack ?? err}`);
    exitCode = 1;
  } finally {
    await stack.close(channelIds);
  }
  return { code: exitCode, results };
});
