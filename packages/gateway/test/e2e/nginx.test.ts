import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ChatClient, createClient } from '@chat/client';
import { slotOf } from '@chat/router';
import { type Nginx, startNginx } from '@chat/testkit';
import { freePort, http, type Stack, signUp, startStack, waitFor } from './stack.js';

describe('through nginx with 3 gateways', () => {
  let stack: Stack;
  let nginx: Nginx;
  let demoRoot: string;
  const clients: ChatClient[] = [];
  before(async () => {
    // As `npm start` runs them: nginx on this machine is the trusted proxy.
    stack = await startStack({ gateways: 3, gatewayEnv: { TRUSTED_PROXIES: '127.0.0.1,::1' } });
    demoRoot = mkdtempSync(join(tmpdir(), 'demo-root-'));
    writeFileSync(join(demoRoot, 'index.html'), '<!doctype html><title>chat</title>');
    nginx = await startNginx({
      port: await freePort(),
      gateways: stack.gateways.map((g) => ({ port: g.port })),
      demoRoot,
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await nginx?.stop();
    await stack?.close();
    rmSync(demoRoot, { recursive: true, force: true });
  });

  it('nginx -t accepts the shipped configuration rendered for local ports', () => {
    assert.match(nginx.test(), /syntax is ok/);
  });

  it('the WebSocket upgrade works, the API and the page are served, and connections of one slot land on one gateway', async () => {
    assert.equal((await fetch(`${nginx.url}/`)).status, 200);
    const users = [];
    for (let i = 0; i < 24; i++) users.push(await signUp(nginx.url, `n${i}`));
    // Pairs of users per slot is too rare to find among 24 names: open several sockets per user instead,
    // each with the user's slot hint, and check that all sockets of one slot share a gateway.
    const bySlot = new Map<number, Set<string>>();
    for (const u of users) {
      for (let k = 0; k < 3; k++) {
        const c = createClient({ baseUrl: nginx.url, token: u.token });
        clients.push(c);
        await c.connect();
        const slot = slotOf(u.id);
        const set = bySlot.get(slot) ?? new Set<string>();
        set.add(c.serverId!);
        bySlot.set(slot, set);
      }
    }
    for (const [slot, servers] of bySlot)
      assert.equal(servers.size, 1, `slot ${slot} spread over ${[...servers].join(', ')}`);
    const used = new Set([...bySlot.values()].flatMap((s) => [...s]));
    assert.ok(used.size >= 2, `24 users' slots should use more than one gateway, used ${[...used].join(',')}`);
    // The upgrade really is a WebSocket through nginx: a message round-trips.
    const [a, b] = [clients[0]!, clients[3]!];
    const got = new Promise<string>((resolve) =>
      b.on('messageCreate', (m) => m.content === 'via nginx' && resolve(m.id)),
    );
    const sent = await a.send('1', 'via nginx');
    assert.equal(await got, sent.id);
    // The HTTP API at /api/v1 (what the SDK calls) and its /api alias both pass nginx, with the
    // template's security headers on the answers.
    assert.equal((await a.me()).id, users[0]!.id);
    for (const path of ['/api/v1/users/@me', '/api/users/@me']) {
      const res = await fetch(`${nginx.url}${path}`);
      assert.equal(res.status, 401, path);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="chat"', path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
    }
  });

  it('per-client budgets work behind nginx: the failed logins of one client do not lock out another (issue #12)', async () => {
    await signUp(nginx.url, 'behind');
    // Clients connect to nginx from their own 127.0.0.x addresses; nginx passes each one's as X-Real-IP.
    const login = async (localAddress: string, password: string) =>
      (await http(nginx.url, 'POST', '/api/sessions', { username: 'behind', password }, undefined, { localAddress }))
        .status;
    const attacker: number[] = [];
    for (let i = 0; i < 20; i++) attacker.push(await login('127.0.0.2', 'wrong password'));
    assert.ok(attacker.includes(429), `the attacker is limited: ${attacker.join(',')}`);
    assert.equal(await login('127.0.0.3', 'correct horse battery'), 200, 'another client is not');
  });

  it('the clients of a killed gateway are re-balanced to the others and lose nothing', async () => {
    const victim = stack.gateways.find((g) => clients.some((c) => c.serverId === g.serverId))!;
    const moved = clients.filter((c) => c.serverId === victim.serverId);
    assert.ok(moved.length > 0);
    const received = new Map<ChatClient, Set<string>>(clients.map((c) => [c, new Set<string>()]));
    for (const c of clients) c.on('messageCreate', (m) => m.channel_id === '1' && received.get(c)!.add(m.id));
    const sender = await signUp(nginx.url, 'announcer');
    const acked: string[] = [];
    let running = true;
    const traffic = (async () => {
      for (let i = 0; running; i++) {
        const res = await http(nginx.url, 'POST', '/api/channels/1/messages', { content: `tick ${i}` }, sender.token);
        if (res.status === 201) acked.push(res.body.id);
        await sleep(50);
      }
    })();
    await sleep(1000);
    victim.kill('SIGKILL');
    await victim.exited;
    await waitFor(
      () => moved.every((c) => c.state === 'open' && c.serverId !== victim.serverId),
      'moved clients to reconnect elsewhere',
      60_000,
    );
    await sleep(1500);
    running = false;
    await traffic;
    assert.ok(acked.length > 20);
    await waitFor(
      () => clients.every((c) => acked.every((id) => received.get(c)!.has(id))),
      'every acked message at every client',
      30_000,
    ).catch(() => {});
    const missing = clients.flatMap((c) => acked.filter((id) => !received.get(c)!.has(id)));
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} deliveries missing`);
    // Still one gateway per slot after the move.
    const bySlot = new Map<number, Set<string>>();
    for (const c of clients) {
      const slot = slotOf(c.user!.id);
      bySlot.set(slot, (bySlot.get(slot) ?? new Set()).add(c.serverId!));
    }
    for (const servers of bySlot.values()) assert.equal(servers.size, 1);
  });
});
