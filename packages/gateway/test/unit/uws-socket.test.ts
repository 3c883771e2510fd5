// UwsSocket over a real uWebSockets.js server and a `ws` client: frames sent outside a cork (as the
// router's deliveries are) arrive complete and in order, interleaved with corked ones as they were sent;
// a close sent after them arrives after them; sends to a socket the client already closed are no-ops.

import type { WebSocket as UwsWebSocket, us_listen_socket } from 'uWebSockets.js';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { loadNativeUws } from '../../src/uws.js';
import { UwsSocket } from '../../src/uws-socket.js';

const uws = loadNativeUws();
let listen: us_listen_socket;
let port = 0;
/** Resolvers for the next server-side socket to open. */
const opened: Array<(s: UwsSocket<unknown>) => void> = [];
const closedOnServer: Array<() => void> = [];

before(async () => {
  const app = uws.App().ws<Record<string, never>>('/*', {
    open: (ws: UwsWebSocket<Record<string, never>>) => opened.shift()?.(new UwsSocket(ws) as UwsSocket<unknown>),
    close: () => closedOnServer.shift()?.(),
  });
  listen = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('cannot listen')))),
  );
  port = uws.us_socket_local_port(listen);
});
after(() => uws.us_listen_socket_close(listen));

async function connect(): Promise<{ client: WebSocket; server: UwsSocket<unknown>; frames: string[] }> {
  const server = new Promise<UwsSocket<unknown>>((resolve) => opened.push(resolve));
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  const frames: string[] = [];
  client.on('message', (data) => frames.push(String(data)));
  await once(client, 'open');
  return { client, server: await server, frames };
}

test('frames sent outside a cork arrive in order, with corked ones where they were sent, then the close', async () => {
  const { client, server, frames } = await connect();
  const closed = once(client, 'close');
  // Outside any uWS callback, as a delivery from the broker is.
  setImmediate(() => {
    for (let i = 0; i < 300; i++) {
      if (i === 150) server.cork(() => server.send('corked'));
      server.send(`f${i}`);
    }
    server.end(4000, 'bye');
  });
  const [code, reason] = (await closed) as [number, Buffer];
  assert.equal(code, 4000);
  assert.equal(String(reason), 'bye');
  const expected = Array.from({ length: 300 }, (_, i) => `f${i}`);
  // A cork first sends what was coalesced before it: send order is kept.
  assert.deepEqual(frames, [...expected.slice(0, 150), 'corked', ...expected.slice(150)]);
});

test('frames from separate ticks each arrive, in order', async () => {
  const { client, server, frames } = await connect();
  for (let tick = 0; tick < 20; tick++) {
    await new Promise((r) => setImmediate(r));
    server.send(`t${tick}a`);
    server.send(`t${tick}b`);
  }
  while (frames.length < 40) await once(client, 'message');
  assert.deepEqual(frames, Array.from({ length: 20 }, (_, t) => [`t${t}a`, `t${t}b`]).flat());
  client.close();
});

test('sends, flushes and corks on a socket the client already closed do not throw', async () => {
  const { client, server } = await connect();
  const gone = new Promise<void>((resolve) => closedOnServer.push(resolve));
  client.close();
  await gone;
  assert.equal(server.send('late'), true, 'queued for the end of the tick');
  await new Promise((r) => setImmediate(r));
  let ran = false;
  server.cork(() => {
    ran = true;
    assert.equal(server.send('late, corked'), false);
  });
  assert.equal(ran, true);
  assert.equal(server.bufferedAmount(), 0);
  server.end(1000, 'already gone');
});
