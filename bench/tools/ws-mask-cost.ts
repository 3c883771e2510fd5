// What a load generator's socket costs per frame with ws's default masking key (randomFillSync per
// frame) and with loadgen-socket-options.ts' zero key: 500 sockets send 2,000 ~150-byte text frames/s
// for 10 s to an echo server in a child process, and the client's own CPU (user + system) is divided
// by the frames sent. After a warm-up, runs the two alternately, `rounds` times each.
//
//   node --import tsx bench/tools/ws-mask-cost.ts [rounds=3]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { loadgenSocketOptions } from '../lib/loadgen-socket-options.js';

const SOCKETS = 500;
const RATE = 2000;
const SECONDS = 10;
const payload = JSON.stringify({
  op: 10,
  d: { type: 'message.create', channel_id: '123456789012345678', content: 'x'.repeat(100) },
});

/** The echo server (child process): sends its port to the parent and leaves with it. */
function serveEcho(): void {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
  wss.on('listening', () => process.send?.((wss.address() as { port: number }).port));
  process.on('disconnect', () => process.exit(0));
}

async function measure(port: number, zeroMask: boolean): Promise<number> {
  const base = loadgenSocketOptions('127.0.0.1');
  const options = zeroMask ? base : { ...base, generateMask: undefined };
  const sockets = await Promise.all(
    Array.from({ length: SOCKETS }, () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, options);
      ws.on('message', (d: Buffer) => JSON.parse(d.toString()));
      return new Promise<WebSocket>((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    }),
  );
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.floor(((Date.now() - t0) * RATE) / 1000);
      for (; sent < due; sent++) sockets[sent % SOCKETS]!.send(payload);
      if (Date.now() - t0 >= SECONDS * 1000) {
        clearInterval(timer);
        setTimeout(resolve, 500);
      }
    }, 5);
  });
  const cpu = process.cpuUsage(cpu0);
  for (const ws of sockets) ws.terminate();
  return (cpu.user + cpu.system) / sent;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const server = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: ['--import', 'tsx'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', (p) => resolve(p as number));
      server.once('exit', () => reject(new Error('the echo server exited before listening')));
      setTimeout(() => reject(new Error('the echo server did not listen within 30 s')), 30_000).unref();
    });
    await measure(port, false); // warm-up, unreported
    for (let i = 0; i < rounds; i++) {
      for (const zero of [false, true]) {
        const us = await measure(port, zero);
        console.log(
          `${zero ? 'zero key  ' : 'random key'}  ${us.toFixed(1)} µs of client CPU per frame sent (and its echo read)`,
        );
      }
    }
  } finally {
    server.kill();
  }
}

if (process.argv[2] === '--serve') serveEcho();
else await main();
