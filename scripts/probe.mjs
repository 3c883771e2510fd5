#!/usr/bin/env node
// `node scripts/probe.mjs amqp|redis`: is the RabbitMQ of AMQP_URL (its first URL) or the Redis of
// REDIS_URL (defaults as the services use them) accepting TCP connections? Prints one line,
// `<host> <port> <local|remote> <up|down>`, and exits 0 when up, 1 when down, 2 on a bad URL. Uses
// only Node's built-ins: scripts/setup.sh runs it before npm dependencies are installed.
import { connect } from 'node:net';

const kinds = {
  amqp: {
    variable: 'AMQP_URL',
    fallback: 'amqp://guest:guest@127.0.0.1:5672',
    ports: { 'amqp:': 5672, 'amqps:': 5671 },
  },
  redis: { variable: 'REDIS_URL', fallback: 'redis://127.0.0.1:6379', ports: { 'redis:': 6379, 'rediss:': 6379 } },
};
const LOCAL = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']);
const TIMEOUT_MS = 3000;

const kind = kinds[process.argv[2]];
if (!kind) {
  console.error('usage: probe.mjs amqp|redis');
  process.exit(2);
}
const raw = (process.env[kind.variable] || kind.fallback).split(',')[0].trim();
let url;
try {
  url = new URL(raw);
} catch {
  console.error(`${kind.variable} is not a URL: "${raw.replace(/\/\/[^@]*@/, '//…@')}"`);
  process.exit(2);
}
const defaultPort = kind.ports[url.protocol];
if (defaultPort === undefined) {
  console.error(`${kind.variable} must start with ${Object.keys(kind.ports).join('// or ')}//, got ${url.protocol}//`);
  process.exit(2);
}
const host = url.hostname;
const port = Number(url.port || defaultPort);
const where = LOCAL.has(host) ? 'local' : 'remote';

const up = await new Promise((resolve) => {
  const socket = connect({ host: host.replace(/^\[|\]$/g, ''), port });
  const done = (ok) => {
    socket.destroy();
    resolve(ok);
  };
  socket.setTimeout(TIMEOUT_MS, () => done(false));
  socket.once('connect', () => done(true));
  socket.once('error', () => done(false));
});
console.log(`${host} ${port} ${where} ${up ? 'up' : 'down'}`);
process.exit(up ? 0 : 1);
