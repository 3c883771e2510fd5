#!/usr/bin/env node
// `npm start`: the whole system on one machine, without Docker. After `scripts/setup.sh --run` (run by
// `prestart`) has checked RabbitMQ, Redis and nginx (installing or starting them as root) and built
// everything, this starts MongoDB (MONGO_URL, or the in-memory stand-in with a loud warning), the
// persister, N gateways and nginx in front of them serving the demo page, and prints the URLs.
// SIGINT (Ctrl-C) and SIGTERM (`kill` of npm, a supervisor, `timeout`) stop everything it started, and so
// does the death of its parent: package.json's `start` execs this script, so npm forwards both signals
// straight to it (without `exec`, sh would die and leave this process running).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMongo, startNginx } from '@chat/testkit';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;

function int(name, fallback, min, max) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`start: ${name} must be an integer in ${min}..${max}, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

const gatewayCount = int('GATEWAYS', 2, 1, 32);
const httpPort = int('HTTP_PORT', 8080, 1, 65535);
const gatewayBasePort = int('GATEWAY_BASE_PORT', 9001, 1, 65000);
const persisterPort = int('PERSISTER_HTTP_PORT', 9101, 1, 65535);
// nginx's per-address limits: generous by default here (local runs and benchmarks come from loopback);
// docker-compose.yml sets production values.
const nginxLimits = {
  wsConnPerIp: int('NGINX_WS_CONN_PER_IP', 50_000, 1, 65_535),
  apiReqPerSecond: int('NGINX_API_REQ_PER_S', 10_000, 1, 1_000_000),
  apiBurst: int('NGINX_API_BURST', 20_000, 0, 1_000_000),
};
const amqpUrl = env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
const redisUrl = env.REDIS_URL || 'redis://127.0.0.1:6379';
const jwtSecret = env.JWT_SECRET || randomBytes(32).toString('hex');

const children = [];
let stopping = false;

function log(name, line) {
  let text = line;
  try {
    const j = JSON.parse(line);
    const level = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }[j.level] ?? j.level;
    const { level: _l, time: _t, pid: _p, hostname: _h, service: _s, server_id: _i, msg, ...rest } = j;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    text = `${level} ${msg}${extra}`;
  } catch {
    // not JSON: print as is
  }
  process.stdout.write(`[${name}] ${text}\n`);
}

// CHAT_FROM_SOURCE=1 runs the services from their TypeScript sources (tests do, so that they never
// exercise a stale build); by default the built dist/ of each package runs, as in production.
const fromSource = env.CHAT_FROM_SOURCE === '1';

function run(name, script, extraEnv) {
  const args = fromSource
    ? [
        '--conditions=@chat/source',
        '--import',
        'tsx',
        join(root, script.replace('/dist/', '/src/').replace(/\.js$/, '.ts')),
      ]
    : [join(root, script)];
  const child = spawn(process.execPath, args, {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const entry = { name, child, exited: null, output: '' };
  const onData = (chunk) => {
    const text = chunk.toString();
    // Kept until the service is up, so that a ready line is never missed by a late waiter.
    if (entry.output.length < 1_000_000) entry.output += text;
    for (const line of text.split('\n')) if (line.trim()) log(name, line);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  entry.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  entry.exited.then((how) => {
    if (!stopping) log('start', `${name} exited (${how}); the rest keeps running — Ctrl-C or SIGTERM stops everything`);
  });
  children.push(entry);
  return entry.exited;
}

async function waitForLine(name, pattern, timeoutMs) {
  const entry = children.find((c) => c.name === name);
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  entry.exited.then(() => {
    gone = true;
  });
  while (!entry.output.includes(pattern)) {
    if (gone) throw new Error(`${name} exited while starting`);
    if (Date.now() > deadline) throw new Error(`${name} did not start within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function demoRoot() {
  const dist = join(root, 'packages/demo/dist');
  if (!existsSync(join(dist, 'index.html')) && existsSync(join(root, 'packages/demo/package.json'))) {
    spawnSync('npm', ['run', 'build', '-w', '@chat/demo'], { cwd: root, stdio: 'inherit' });
  }
  if (existsSync(join(dist, 'index.html'))) return dist;
  const placeholder = join(root, '.tmp/demo-placeholder');
  mkdirSync(placeholder, { recursive: true });
  writeFileSync(
    join(placeholder, 'index.html'),
    '<!doctype html><title>chat</title><p>The demo page is not built: npm run build -w @chat/demo</p>',
  );
  return placeholder;
}

let mongo;
let nginx;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  log('start', 'stopping: gateways drain, the persister finishes what it holds');
  for (const c of children) c.child.kill('SIGTERM');
  const all = Promise.all(children.map((c) => c.exited));
  const timeout = new Promise((r) => setTimeout(r, 20_000).unref());
  await Promise.race([all, timeout]);
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await nginx?.stop();
  await mongo?.close();
  log('start', 'stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
// Orphaned (the parent was killed with SIGKILL, or a wrapper died without forwarding a signal): stop too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) {
    log('start', `parent process ${parent} is gone`);
    void shutdown(0);
  }
}, 1000).unref();

try {
  mongo = await startMongo({
    logger: {
      warn: (message) => {
        const bar = '!'.repeat(78);
        process.stdout.write(
          `${bar}\n!! MONGO_URL is not set: using the in-memory MongoDB stand-in.\n!! It KEEPS NOTHING: every user and message is gone when this stops.\n!! ${message.slice(0, 70)}…\n!! For real storage: MONGO_URL=mongodb://host:27017 npm start\n${bar}\n`,
        );
      },
    },
  });
  const common = {
    AMQP_URL: amqpUrl,
    REDIS_URL: redisUrl,
    MONGO_URL: mongo.url,
    MONGO_DB: env.MONGO_DB || 'chat',
    JWT_SECRET: jwtSecret,
    LOG_LEVEL: env.LOG_LEVEL || 'info',
  };
  run('persister', 'packages/persister/dist/main.js', {
    ...common,
    PERSISTER_HTTP_HOST: '127.0.0.1',
    PERSISTER_HTTP_PORT: String(persisterPort),
  });
  await waitForLine('persister', 'persister consuming', 60_000);
  const gateways = [];
  for (let i = 0; i < gatewayCount; i++) {
    const port = gatewayBasePort + i;
    const name = `gw${i}`;
    run(name, 'packages/gateway/dist/main.js', {
      ...common,
      HOST: '127.0.0.1',
      PORT: String(port),
      SERVER_ID: `local-${name}`,
      // nginx (below) runs on this machine: its X-Real-IP names the client, so per-client budgets work.
      TRUSTED_PROXIES: env.TRUSTED_PROXIES || '127.0.0.1,::1',
      // As the image sets them (infra/docker/Dockerfile): glibc gives memory freed after a burst of
      // connections back to the system (bench/results/w3-memory-profile.md).
      MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX || '2',
      MALLOC_TRIM_THRESHOLD_: env.MALLOC_TRIM_THRESHOLD_ || '131072',
    });
    gateways.push({ port });
  }
  for (let i = 0; i < gatewayCount; i++) await waitForLine(`gw${i}`, 'gateway listening', 60_000);
  nginx = await startNginx({ port: httpPort, gateways, demoRoot: demoRoot(), ...nginxLimits });
  const lines = [
    '',
    `  Chat is up: open http://127.0.0.1:${httpPort} (the demo page)`,
    `    WebSocket   ws://127.0.0.1:${httpPort}/ws     HTTP API  http://127.0.0.1:${httpPort}/api/`,
    ...gateways.map((g, i) => `    gateway ${i}   http://127.0.0.1:${g.port}/metrics  /readyz`),
    `    persister   http://127.0.0.1:${persisterPort}/metrics  /readyz`,
    `    RabbitMQ    ${amqpUrl.replace(/\/\/[^@]*@/, '//')}    Redis ${redisUrl}`,
    `    admin page  http://127.0.0.1:${httpPort}/admin/  (${env.ADMIN_USERS ? `admins: ${env.ADMIN_USERS}` : 'set ADMIN_USERS=<username> for an admin'}; npx chat-admin --url …)`,
    env.JWT_SECRET ? '' : '    (JWT_SECRET was generated for this run: tokens do not survive a restart)',
    '  Ctrl-C (or SIGTERM) stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} catch (err) {
  log('start', `failed: ${err.message}`);
  await shutdown(1);
}
