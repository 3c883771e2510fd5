// The shipped nginx template (infra/nginx/templates/chat.conf.template) on Debian's nginx: the
// per-address limits refuse the excess with 429 (WebSocket connections open at once on /ws, request
// rate on /api), and every response carries the security headers. The upstream is a plain Node HTTP
// server standing where the gateways stand; the behaviour under test is nginx's.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort, type Nginx, startNginx } from '@chat/testkit';

/** An upgrade through nginx: the status line's code (101 when it reached the upstream). */
function upgrade(port: number, held: Socket[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      port,
      host: '127.0.0.1',
      path: '/ws',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket' },
    });
    req.on('upgrade', (res, socket) => {
      held.push(socket);
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

async function get(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  await res.arrayBuffer();
  return { status: res.status, headers: Object.fromEntries(res.headers) };
}

describe('the shipped nginx template: per-address limits and security headers', () => {
  let upstream: Server;
  let nginx: Nginx;
  const upstreamSockets: Socket[] = [];
  const clientSockets: Socket[] = [];

  before(async () => {
    upstream = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    upstream.on('upgrade', (_req, socket: Socket) => {
      upstreamSockets.push(socket);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    });
    const upstreamPort = await freePort();
    upstream.listen(upstreamPort, '127.0.0.1');
    await once(upstream, 'listening');
    nginx = await startNginx({
      port: await freePort(),
      gateways: [{ port: upstreamPort }],
      demoRoot: '/nonexistent',
      wsConnPerIp: 5,
      apiReqPerSecond: 1,
      apiBurst: 3,
    });
  });
  after(async () => {
    for (const s of [...clientSockets, ...upstreamSockets]) s.destroy();
    await nginx?.stop();
    upstream?.close();
  });

  test('a sixth WebSocket from one address while five are open is refused with 429; closing one lets the next in', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push(await upgrade(nginx.port, clientSockets));
    assert.deepEqual(codes, [101, 101, 101, 101, 101, 429]);
    clientSockets.shift()!.destroy();
    // nginx counts the connection until it has seen the close: retry briefly.
    let code = 0;
    for (let i = 0; i < 50 && code !== 101; i++) {
      code = await upgrade(nginx.port, clientSockets);
      if (code !== 101) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(code, 101);
  });

  test('/api past its burst from one address gets 429, and every response carries the security headers', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await get(nginx.port, '/api/anything')).status);
    // rate 1/s with burst 3: the first 4 pass (one at the rate plus the burst); the rest within the same second do not.
    assert.deepEqual(statuses.slice(0, 4), [200, 200, 200, 200]);
    assert.ok(statuses.slice(4).includes(429), statuses.join(','));
    for (const path of ['/api/anything', '/healthz', '/']) {
      const { headers } = await get(nginx.port, path);
      assert.equal(headers['x-content-type-options'], 'nosniff', path);
      assert.equal(headers['x-frame-options'], 'DENY', path);
      assert.equal(headers['referrer-policy'], 'no-referrer', path);
      assert.match(String(headers['content-security-policy']), /default-src 'self'.*frame-ancestors 'none'/, path);
    }
  });
});
