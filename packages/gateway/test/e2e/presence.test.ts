// Presence end to end, across two gateway processes: A and B share a DM; A's sockets are on either
// gateway, B's on the second. B hears A come online with its first socket anywhere, go offline only
// after its last one closed (and a reconnect within the offline grace announces nothing), and go
// offline after A's gateway is SIGKILLed, within the presence timeout; a member of a group past
// PRESENCE_MAX_GROUP_MEMBERS hears nothing; READY and RESUMED carry the presence of the DM partners.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawClient } from './raw-client.js';
import { http, metric, type Stack, signUp, startStack, waitFor } from './stack.js';

const HEARTBEAT_MS = 300;
const TIMEOUT_MS = 1500;
const GRACE_MS = 1000;
const PRESENCE_ENV = {
  PRESENCE_OFFLINE_GRACE_MS: String(GRACE_MS),
  PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS),
  PRESENCE_TIMEOUT_MS: String(TIMEOUT_MS),
  PRESENCE_MAX_GROUP_MEMBERS: '3',
};

type Account = Awaited<ReturnType<typeof signUp>>;

/** The PRESENCE_UPDATE statuses of `userId` a client received, in order. */
function statusesOf(client: RawClient, userId: string): string[] {
  return client.frames.filter((f) => f.t === 'PRESENCE_UPDATE' && f.d?.user_id === userId).map((f) => f.d.status);
}

/** A HEARTBEAT round trip: every frame the gateway sent this socket before answering it has arrived. */
async function roundTrip(client: RawClient): Promise<void> {
  const acks = client.frames.filter((f) => f.op === 11).length;
  client.send({ op: 1, d: null });
  await waitFor(() => client.frames.filter((f) => f.op === 11).length > acks, 'HEARTBEAT_ACK', 10_000);
}

describe('presence across gateways', () => {
  let stack: Stack;
  let a: Account;
  let b: Account;
  let c: Account;
  const open: RawClient[] = [];
  const ws = (i: number) => `${stack.gateways[i]!.url.replace('http', 'ws')}/ws`;
  const connect = async (i: number, who: Account) => {
    const client = await RawClient.open(ws(i));
    open.push(client);
    return { client, ready: await client.identify(who.token) };
  };

  before(async () => {
    stack = await startStack({ gateways: 2, gatewayEnv: PRESENCE_ENV });
    const base = stack.gateways[0]!.url;
    a = await signUp(base, 'pa');
    b = await signUp(base, 'pb');
    c = await signUp(base, 'pc');
    const d = await signUp(base, 'pd');
    const e = await signUp(base, 'pe');
    const dm = await http(base, 'POST', '/api/channels', { kind: 'dm', recipients: [b.id] }, a.token);
    assert.equal(dm.status, 201);
    // Four members: past PRESENCE_MAX_GROUP_MEMBERS (3), so nobody in it hears the others' presence.
    const group = await http(
      base,
      'POST',
      '/api/channels',
      { kind: 'group', name: 'big', recipients: [c.id, d.id, e.id] },
      a.token,
    );
    assert.equal(group.status, 201);
  });
  after(async () => {
    for (const client of open) client.ws.terminate();
    await stack?.close();
  });

  it('READY carries the DM partner presence; B hears A online; a big group hears nothing', async () => {
    const { client: bSock, ready: bReady } = await connect(1, b);
    assert.deepEqual(bReady.presences, [{ user_id: a.id, status: 'offline' }], "B's READY: its DM partner A, offline");
    const { client: cSock, ready: cReady } = await connect(1, c);
    assert.deepEqual(cReady.presences, [], 'C shares only big groups with anyone');

    const { ready: aReady } = await connect(0, a);
    assert.deepEqual(aReady.presences, [{ user_id: b.id, status: 'online' }], "A's READY: B is online");
    await waitFor(() => statusesOf(bSock, a.id).length === 1, 'B to hear A online');
    assert.deepEqual(statusesOf(bSock, a.id), ['online']);

    // B and C are on the same gateway: an update addressed to C would have been framed for C in the same
    // delivery as B's, so it is before the answer to a heartbeat C sends now.
    await roundTrip(cSock);
    assert.deepEqual(
      cSock.frames.filter((f) => f.t === 'PRESENCE_UPDATE'),
      [],
      'a member of a group past the limit gets no presence',
    );

    // Updates are not replayed: RESUMED carries the presence as of now, as READY does.
    const b2 = await RawClient.open(ws(1));
    open.push(b2);
    b2.send({ op: 6, d: { token: b.token, since: '1' } });
    const resumed = (await b2.next((f) => f.t === 'RESUMED')).d;
    assert.deepEqual(resumed.presences, [{ user_id: a.id, status: 'online' }]);
    b2.ws.close(1000);
  });

  it('two sockets on two gateways: A goes offline only after both closed', async () => {
    const bSock = open[0]!;
    const a1 = open[2]!;
    const { client: a2 } = await connect(1, a);
    const gw0 = stack.gateways[0]!.url;
    const stillOnline = await metric(gw0, 'chat_gateway_presence_total{change="still_online"}');
    a1.ws.close(1000);
    // The first gateway saw A's last socket there close and found A on the second gateway.
    await waitFor(
      async () => (await metric(gw0, 'chat_gateway_presence_total{change="still_online"}')) > stillOnline,
      'the first gateway to find A still online elsewhere',
    );
    assert.equal(await metric(gw0, 'chat_gateway_presence_total{change="offline"}'), 0);
    await roundTrip(bSock);
    assert.deepEqual(statusesOf(bSock, a.id), ['online'], 'no offline while A has a socket on the second gateway');

    a2.ws.close(1000);
    await waitFor(() => statusesOf(bSock, a.id).length === 2, 'B to hear A offline');
    assert.deepEqual(statusesOf(bSock, a.id), ['online', 'offline']);
  });

  it('a reconnect within the offline grace announces nothing', async () => {
    const bSock = open[0]!;
    const { client: first } = await connect(0, a);
    await waitFor(() => statusesOf(bSock, a.id).length === 3, 'B to hear A online again');
    const gw0 = stack.gateways[0]!.url;
    const returned = await metric(gw0, 'chat_gateway_presence_total{change="returned"}');
    first.ws.close(1000);
    await first.closed();
    await connect(0, a);
    await waitFor(
      async () => (await metric(gw0, 'chat_gateway_presence_total{change="returned"}')) > returned,
      'the gateway to see A back within the grace',
    );
    // Past the grace (had the offline been pending, it would have been sent by now), then a round trip.
    await sleep(GRACE_MS + 500);
    await roundTrip(bSock);
    assert.deepEqual(statusesOf(bSock, a.id), ['online', 'offline', 'online'], 'no offline, no second online');
  });

  it("A's gateway SIGKILLed: B hears A offline within the presence timeout", async () => {
    const bSock = open[0]!;
    const victim = stack.gateways[0]!;
    victim.kill('SIGKILL');
    assert.equal(await victim.exited, 'SIGKILL');
    // Offline after TIMEOUT_MS without a heartbeat, noticed at the survivor's next beat; the rest is slack
    // for a loaded machine, not a measurement.
    await waitFor(
      () => statusesOf(bSock, a.id).length === 4,
      'B to hear A offline',
      TIMEOUT_MS + HEARTBEAT_MS + 10_000,
    );
    assert.deepEqual(statusesOf(bSock, a.id), ['online', 'offline', 'online', 'offline']);
    assert.ok(
      stack.gateways[1]!.logs.some(
        (l) => l.includes('"msg":"claimed a dead gateway"') && l.includes('"gateway":"gw0"'),
      ),
      'the surviving gateway claimed the dead one',
    );
  });
});
