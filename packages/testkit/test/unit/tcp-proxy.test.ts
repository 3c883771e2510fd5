// The loopback TCP proxy against a real echo server: bytes pass intact and in order with and without
// a delay, a delay holds traffic back at least that long each way, a large transfer through a delayed
// proxy finishes (the held buffer pauses the source instead of growing), and a cut resets connections.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { startTcpProxy, type TcpProxy } from '@chat/testkit';
import { HELD_LIMIT } from '../../src/delayed-forward.js';

let echo: Server;
let proxy: TcpProxy;

before(async () => {
  echo = createServer((s) => {
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  proxy = await startTcpProxy({ port: (echo.address() as { port: number }).port });
});
after(async () => {
  await proxy.close();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

async function open(): Promise<Socket> {
  const s = connect(proxy.port, '127.0.0.1');
  await once(s, 'connect');
  return s;
}

/** Sends `payload` through the proxy to the echo server and collects what comes back. */
async function roundTrip(s: Socket, payload: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      received += c.length;
      if (received >= payload.length) resolve();
    });
    s.once('error', reject);
  });
  s.write(payload);
  await done;
  s.removeAllListeners('data');
  return Buffer.concat(chunks);
}

function pattern(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

test('without a delay, bytes come back intact', async () => {
  const s = await open();
  const payload = pattern(64 * 1024);
  assert.deepEqual(await roundTrip(s, payload), payload);
  s.destroy();
});

test('a delay holds each direction back at least that long, and keeps order across many writes', async () => {
  const s = await open();
  proxy.delay(150);
  assert.equal(proxy.delayMs, 150);
  try {
    const started = Date.now();
    const pieces = Array.from({ length: 50 }, (_, i) => Buffer.from(`piece-${i};`));
    const expected = Buffer.concat(pieces);
    const chunks: Buffer[] = [];
    let received = 0;
    const done = new Promise<void>((resolve) => {
      s.on('data', (c: Buffer) => {
        chunks.push(c);
        received += c.length;
        if (received >= expected.length) resolve();
      });
    });
    for (const p of pieces) s.write(p);
    await done;
    // A lower bound only: there and back through the proxy is two delayed hops.
    assert.ok(Date.now() - started >= 300, `round trip took ${Date.now() - started} ms`);
    assert.equal(Buffer.concat(chunks).toString(), expected.toString());
  } finally {
    proxy.delay(0);
    s.destroy();
  }
});

test('a transfer larger than the held limit finishes intact through a delayed proxy', async () => {
  const s = await open();
  proxy.delay(20);
  try {
    const payload = pattern(HELD_LIMIT * 3);
    assert.ok((await roundTrip(s, payload)).equals(payload));
  } finally {
    proxy.delay(0);
    s.destroy();
  }
});

test('a negative or non-finite delay is refused', () => {
  assert.throws(() => proxy.delay(-1), RangeError);
  assert.throws(() => proxy.delay(Number.NaN), RangeError);
  assert.equal(proxy.delayMs, 0);
});

test('a cut resets open connections and refuses new ones until restored', async () => {
  const s = await open();
  s.on('error', () => {});
  const closed = new Promise((resolve) => s.once('close', resolve));
  proxy.cut();
  await closed;
  const refused = connect(proxy.port, '127.0.0.1');
  const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNRESET');
  proxy.restore();
  const again = await open();
  assert.deepEqual(await roundTrip(again, Buffer.from('back')), Buffer.from('back'));
  again.destroy();
});
