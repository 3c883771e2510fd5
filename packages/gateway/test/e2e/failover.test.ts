import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ChatClient, createClient } from '@chat/client';
import { startTcpBalancer, type TcpBalancer } from '@chat/testkit';
import { http, type Stack, signUp, startStack, waitFor } from './stack.js';

interface Member {
  client: ChatClient;
  userId: string;
  group: string;
  received: Set<string>;
}

/** Every client connects from 127.0.0.1: the per-address budgets and caps are raised for them. */
const FAILOVER_ENV = {
  HTTP_RATE_REQUESTS: '10000',
  LOGIN_ADDRESS_RATE_REQUESTS: '10000',
  MAX_PENDING_SOCKETS_PER_ADDRESS: '10000',
};

/** Users in groups, each a connected SDK client behind the balancer, chatting at `perSecond`. */
async function population(
  stack: Stack,
  lb: TcpBalancer,
  users: number,
  groupSize: number,
  label: string,
): Promise<Member[]> {
  const base = stack.gateways[0]!.url;
  const accounts: Array<{ id: string; username: string; token: string }> = [];
  for (let i = 0; i < users; i += 8) {
    accounts.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(8, users - i) }, (_, k) => signUp(base, `${label}${i + k}`)),
      )),
    );
  }
  const members: Member[] = [];
  for (let g = 0; g < users / groupSize; g++) {
    const group = accounts.slice(g * groupSize, (g + 1) * groupSize);
    const ch = (
      await http(
        base,
        'POST',
        '/api/channels',
        { kind: 'group', name: `${label}-g${g}`, recipients: group.slice(1).map((u) => u.id) },
        group[0]!.token,
      )
    ).body;
    for (const u of group) {
      const client = createClient({
        baseUrl: lb.url,
        token: u.token,
        reconnect: { initialDelayMs: 100, maxDelayMs: 2000 },
      });
      const m: Member = { client, userId: u.id, group: ch.id, received: new Set() };
      client.on('messageCreate', (msg) => {
        if (msg.channel_id === ch.id) m.received.add(msg.id);
      });
      members.push(m);
    }
  }
  for (let i = 0; i < members.length; i += 20)
    await Promise.all(members.slice(i, i + 20).map((m) => m.client.connect()));
  return members;
}

/** Every member sends one message per `intervalMs` until stopped; records what was acked. */
function chat(members: Member[], intervalMs: number) {
  const acked: Array<{ id: string; group: string }> = [];
  let running = true;
  let failures = 0;
  const loops = members.map(async (m, i) => {
    await sleep((i * intervalMs) / members.length);
    for (let n = 0; running; n++) {
      const started = Date.now();
      try {
        const msg = await m.client.send(m.group, `${m.userId} #${n}`);
        acked.push({ id: msg.id, group: m.group });
      } catch {
        failures++; // not acked: the client may retry, the checker does not count it
      }
      await sleep(Math.max(0, intervalMs - (Date.now() - started)));
    }
  });
  return {
    acked,
    failures: () => failures,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Waits until every acked message reached every member of its group; returns what is missing. */
async function missingDeliveries(members: Member[], acked: Array<{ id: string; group: string }>, timeoutMs: number) {
  const byGroup = new Map<string, Member[]>();
  for (const m of members) byGroup.set(m.group, [...(byGroup.get(m.group) ?? []), m]);
  const missing = () =>
    acked.flatMap((a) =>
      byGroup
        .get(a.group)!
        .filter((m) => !m.received.has(a.id))
        .map((m) => `${a.id}→${m.userId}`),
    );
  await waitFor(() => missing().length === 0, 'every acked message at every member', timeoutMs).catch(() => {});
  return missing();
}

describe('gateway failure', () => {
  let stack: Stack | undefined;
  let lb: TcpBalancer | undefined;
  let members: Member[] = [];
  after(async () => {
    await Promise.all(members.map((m) => m.client.close().catch(() => {})));
    await lb?.close();
    await stack?.close();
  });

  it('a gateway SIGKILLed under 200 chatting clients: every client reconnects to the other, RESUMEs, and every acked message reaches every member', async () => {
    // 200 sign-ups and logins from one address, then 200 reconnects at once: above the default per-address
    // budgets for unauthenticated calls and logins, and the cap on unidentified sockets per address.
    stack = await startStack({ gateways: 2, gatewayEnv: FAILOVER_ENV });
    lb = await startTcpBalancer(stack.gateways.map((g) => ({ port: g.port })));
    members = await population(stack, lb, 200, 20, 'k');
    assert.ok(lb.accepted[0]! > 0 && lb.accepted[1]! > 0, 'clients are spread over both gateways');
    const traffic = chat(members, 1000);
    await sleep(3000);
    const victim = stack.gateways[0]!;
    victim.kill('SIGKILL');
    assert.equal(await victim.exited, 'SIGKILL');
    await waitFor(() => members.every((m) => m.client.state === 'open'), 'every client to be connected again', 60_000);
    await sleep(3000);
    await traffic.stop();
    assert.ok(traffic.acked.length > 500, `${traffic.acked.length} messages acked`);
    const missing = await missingDeliveries(members, traffic.acked, 60_000);
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} deliveries missing of ${traffic.acked.length * 20}`);
    assert.ok(
      members.every((m) => m.client.serverId === stack!.gateways[1]!.serverId),
      'everyone now on the surviving gateway',
    );
    await Promise.all(members.map((m) => m.client.close()));
    members = [];
  });

  it('SIGTERM on a gateway: its clients get RECONNECT, move to the other gateway and lose nothing', async () => {
    await lb?.close();
    await stack?.close();
    stack = await startStack({ gateways: 2, gatewayEnv: FAILOVER_ENV });
    lb = await startTcpBalancer(stack.gateways.map((g) => ({ port: g.port })));
    members = await population(stack, lb, 40, 10, 't');
    const onVictim = members.filter((m) => m.client.serverId === stack!.gateways[0]!.serverId);
    assert.ok(onVictim.length > 0);
    const states: string[] = [];
    for (const m of onVictim) m.client.on('state', (s) => states.push(s));
    const traffic = chat(members, 500);
    await sleep(2000);
    const victim = stack.gateways[0]!;
    victim.kill('SIGTERM');
    assert.equal(await victim.exited, 0, 'the drain completed');
    await waitFor(() => members.every((m) => m.client.state === 'open'), 'every client to be connected again', 30_000);
    await sleep(2000);
    await traffic.stop();
    const missing = await missingDeliveries(members, traffic.acked, 30_000);
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} deliveries missing`);
    assert.ok(states.includes('reconnecting'), 'the clients of the drained gateway reconnected');
    assert.ok(victim.logs.some((l) => l.includes('"msg":"drained"')));
    assert.ok(onVictim.every((m) => m.client.serverId === stack!.gateways[1]!.serverId));
  });
});
