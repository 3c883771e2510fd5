import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack, waitFor, waitForStored } from './stack.js';

describe('RESUME', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ gateways: 2 });
  });
  after(async () => stack?.close());

  it('a client that disconnects while 50 messages are sent to its channels RESUMEs and receives exactly those 50, in order', async () => {
    const [gwA, gwB] = stack.gateways;
    const ivy = await signUp(gwA!.url, 'ivy');
    const jon = await signUp(gwB!.url, 'jon');
    const dm = (await http(gwB!.url, 'POST', '/api/channels', { kind: 'dm', recipients: [ivy.id] }, jon.token)).body;
    const group = (
      await http(gwB!.url, 'POST', '/api/channels', { kind: 'group', name: 'g', recipients: [ivy.id] }, jon.token)
    ).body;
    const c1 = await RawClient.open(`ws://127.0.0.1:${gwA!.port}/ws`);
    await c1.identify(ivy.token);
    const last = (await http(gwB!.url, 'POST', `/api/channels/${dm.id}/messages`, { content: 'before' }, jon.token))
      .body;
    await c1.next((f) => f.t === 'MESSAGE_CREATE' && f.d.id === last.id);
    c1.close();
    await c1.closed();

    const missed: string[] = [];
    for (let i = 0; i < 50; i++) {
      const ch = i % 2 ? dm.id : group.id;
      missed.push(
        (await http(gwB!.url, 'POST', `/api/channels/${ch}/messages`, { content: `missed ${i}` }, jon.token)).body.id,
      );
    }
    // A change stored after the replay's read arrives live instead (protocol §5.6): wait until each
    // channel's last missed message is stored, so that the replay must carry all 50.
    await waitForStored(gwB!.url, dm.id, missed[49]!, jon.token);
    await waitForStored(gwB!.url, group.id, missed[48]!, jon.token);
    // Resume on the other gateway, while more messages keep coming.
    const c2 = await RawClient.open(`ws://127.0.0.1:${gwB!.port}/ws`);
    const live: Promise<string>[] = [];
    c2.send({ op: 6, d: { token: ivy.token, since: last.id } });
    for (let i = 0; i < 5; i++)
      live.push(
        http(gwA!.url, 'POST', `/api/channels/${dm.id}/messages`, { content: `live ${i}` }, jon.token).then(
          (r) => r.body.id,
        ),
      );
    const resumed = await c2.next((f) => f.t === 'RESUMED');
    const liveIds = await Promise.all(live);
    await waitFor(
      () => liveIds.every((id) => c2.frames.some((f) => f.t === 'MESSAGE_CREATE' && f.d.id === id)),
      'the live messages',
    );
    const creates = c2.frames.filter((f) => f.t === 'MESSAGE_CREATE').map((f) => f.d.id as string);
    const resumedAt = c2.frames.indexOf(resumed);
    const replayed = c2.frames
      .slice(0, resumedAt)
      .filter((f) => f.t === 'MESSAGE_CREATE')
      .map((f) => f.d.id as string);
    // The replay holds the 50 missed, in id order, plus any live message already stored at replay time.
    assert.deepEqual(
      replayed.filter((id) => missed.includes(id)),
      missed,
    );
    assert.equal(resumed.d.replayed, replayed.length);
    assert.equal(resumed.d.truncated, false);
    assert.deepEqual(
      [...replayed].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
      replayed,
      'replay in id order',
    );
    assert.equal(new Set(creates).size, creates.length, 'no duplicates between replay and live delivery');
    assert.deepEqual(
      [...creates].filter((id) => missed.includes(id)),
      missed,
      'exactly the 50 missed, once each',
    );
    assert.ok(!creates.includes(last.id), 'nothing at or before `since`');
    c2.close();
  });

  it('a replay longer than the cap is truncated and says so', async () => {
    const capped = await stack.addGateway({ RESUME_MAX: '10' });
    const kim = await signUp(capped.url, 'kim');
    const ch = (await http(capped.url, 'POST', '/api/channels', { kind: 'group', name: 'many' }, kim.token)).body;
    const c = await RawClient.open(`ws://127.0.0.1:${capped.port}/ws`);
    await c.identify(kim.token);
    const first = (await http(capped.url, 'POST', `/api/channels/${ch.id}/messages`, { content: 'start' }, kim.token))
      .body;
    await c.next((f) => f.t === 'MESSAGE_CREATE' && f.d.id === first.id);
    c.close();
    const ids: string[] = [];
    for (let i = 0; i < 15; i++)
      ids.push(
        (await http(capped.url, 'POST', `/api/channels/${ch.id}/messages`, { content: `m${i}` }, kim.token)).body.id,
      );
    await waitForStored(capped.url, ch.id, ids.at(-1)!, kim.token);
    const r = await RawClient.open(`ws://127.0.0.1:${capped.port}/ws`);
    r.send({ op: 6, d: { token: kim.token, since: first.id } });
    const resumed = await r.next((f) => f.t === 'RESUMED');
    assert.deepEqual(
      { replayed: resumed.d.replayed, truncated: resumed.d.truncated },
      { replayed: 10, truncated: true },
    );
    assert.ok(Array.isArray(resumed.d.presences), 'RESUMED carries presence, as READY does');
    // The oldest ten after `since` (the client pages history for the rest).
    assert.deepEqual(
      r.frames
        .filter((f) => f.t === 'MESSAGE_CREATE' && f.d.channel_id === ch.id)
        .map((f) => f.d.id)
        .slice(0, 10),
      ids.slice(0, 10),
    );
    r.close();
  });
});
