// What waking up costs a Node process on this machine, whatever work follows: the fixed price behind
// the "times on a CPU per message" table of w1. Three measurements, each in fresh child processes:
// - timer: an otherwise idle process sleeps `gap` ms on a timer, N times (CPU per wake-up);
// - socket, one at a time: a writer sends a 200-byte TCP write every `gap` ms to a reader in another
//   process, which sleeps in between (CPU per write on the writer, per read on the reader);
// - socket, back to back: the same writes one per event-loop turn, so the reader rarely sleeps (the
//   work of a write and a read without the wake-ups).
// CPU is the process's user + system time (process.cpuUsage) over the N operations only.
//   node --import tsx bench/tools/wake-cost.ts [N=2000]
import { fork } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const N = Number(process.argv[2] ?? 2000);
const PAYLOAD = Buffer.alloc(200, 97);

const cpuUs = (u: NodeJS.CpuUsage) => u.user + u.system;
const sleep = (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

/** Child roles: each prints one JSON line with the CPU µs it spent per operation. */
async function child(role: string, arg: number, port: number): Promise<void> {
  if (role === 'timer') {
    const u0 = process.cpuUsage();
    for (let i = 0; i < N; i++) await sleep(arg);
    process.send?.({ perOp: cpuUs(process.cpuUsage(u0)) / N });
  } else if (role === 'reader') {
    const server = net.createServer((c) => {
      let bytes = 0;
      let u0: NodeJS.CpuUsage | undefined;
      c.on('data', (d) => {
        u0 ??= process.cpuUsage();
        bytes += d.length;
        if (bytes >= N * PAYLOAD.length) {
          process.send?.({ perOp: cpuUs(process.cpuUsage(u0)) / N });
          c.destroy();
          server.close();
        }
      });
    });
    server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as net.AddressInfo).port }));
  } else {
    const c = net.connect(port, '127.0.0.1');
    c.setNoDelay(true);
    await once(c, 'connect');
    await sleep(100);
    const u0 = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      c.write(PAYLOAD);
      await sleep(arg);
    }
    process.send?.({ perOp: cpuUs(process.cpuUsage(u0)) / N });
    c.end();
  }
}

function start(role: string, arg: number, port = 0) {
  const p = fork(fileURLToPath(import.meta.url), [String(N), role, String(arg), String(port)], {
    execArgv: ['--import', 'tsx'],
  });
  const messages: Array<{ perOp?: number; port?: number }> = [];
  const waiters: Array<() => void> = [];
  p.on('message', (m: { perOp?: number; port?: number }) => {
    messages.push(m);
    waiters.shift()?.();
  });
  return {
    next: async () => {
      if (messages.length === 0) await new Promise<void>((r) => waiters.push(r));
      return messages.shift()!;
    },
    done: once(p, 'exit'),
  };
}

async function socketRun(gap: number): Promise<[number, number]> {
  const reader = start('reader', 0);
  const { port } = await reader.next();
  const writer = start('writer', gap, port);
  const [w, r] = await Promise.all([writer.next(), reader.next()]);
  await Promise.all([writer.done, reader.done]);
  return [w.perOp!, r.perOp!];
}

async function main(): Promise<void> {
  const f = (v: number) => v.toFixed(1);
  console.log(`CPU µs per operation, ${N.toLocaleString('en')} operations each (user + system, process.cpuUsage)`);
  console.log('| measurement | gap | writer / sleeper µs | reader µs |');
  console.log('|---|---:|---:|---:|');
  for (const gap of [1, 5, 20]) {
    const t = start('timer', gap);
    const { perOp } = await t.next();
    await t.done;
    console.log(`| timer wake-up, idle process | ${gap} ms | ${f(perOp!)} | — |`);
  }
  for (const gap of [1, 5]) {
    const [w, r] = await socketRun(gap);
    console.log(`| 200-byte TCP write, reader asleep in between | ${gap} ms | ${f(w)} | ${f(r)} |`);
  }
  const [w, r] = await socketRun(0);
  console.log(`| 200-byte TCP write, back to back (one per turn) | 0 | ${f(w)} | ${f(r)} |`);
}

const [, , , role, arg, port] = process.argv;
if (role) await child(role, Number(arg), Number(port));
else await main();
