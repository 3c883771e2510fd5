import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DispatchEnvelope, InvalidEnvelopeError, partitionOf, slotOf } from '@chat/router';
import { useAmqpLeakCheck } from '@chat/testkit';
import { type RouterFixture, routerFixture, usersInDistinctPartitions, waitFor } from './fixture.js';

useAmqpLeakCheck();

function event(n: number, to: string): DispatchEnvelope {
  // Content with a TAB and a newline: the bundle's separators must survive inside envelopes.
  return { v: 1, type: 'dispatch', event: 'TYPING_START', to: [to], data: { n, text: `a\tb\nc ${n}` } };
}

async function gateway(fx: RouterFixture, serverId: string) {
  const router = fx.make({ serverId });
  const received: Array<{ n: number; id: string | undefined; text: string }> = [];
  await router.ready(10_000);
  await router.consume((env, info) => {
    const d = env.data as { n: number; text: string };
    received.push({ n: d.n, id: info.messageId, text: d.text });
  });
  return { router, received };
}

async function metric(fx: { registry: { getSingleMetricAsString(n: string): Promise<string> } }, line: RegExp) {
  const text = await fx.registry.getSingleMetricAsString(line.source.split(/[{ ]/)[0]!.replace(/\\/g, ''));
  const m = text.match(line);
  return m ? Number(m[1]) : 0;
}

for (const granularity of ['slot', 'user'] as const) {
  describe(`dispatchMany in ${granularity} granularity`, () => {
    let fx: RouterFixture;
    afterEach(async () => fx.cleanup());

    for (const broadcastAboveKeys of ['off', 1] as const) {
      const how = broadcastAboveKeys === 'off' ? 'routed to their keys' : 'broadcast to every gateway queue';
      it(`each gateway gets exactly the records for its users, once and in order, from few broker messages (${how})`, async () => {
        fx = routerFixture({ granularity, broadcastAboveKeys, label: `bundle-${granularity}` });
        const a = await gateway(fx, 'a');
        const b = await gateway(fx, 'b');
        const c = await gateway(fx, 'c'); // nobody attached: must get nothing
        const svc = fx.make();
        const users = usersInDistinctPartitions(4);
        await a.router.attach(users[0]!);
        await a.router.attach(users[1]!);
        await b.router.attach(users[2]!);
        await b.router.attach(users[1]!); // users[1] has sockets on both a and b
        // users[3] is attached nowhere.
        const items = Array.from({ length: 40 }, (_, n) => {
          const to = users[n % 4]!;
          return { envelope: event(n, to), target: { users: [to] }, id: `ev-${n}` };
        });
        const published = await svc.dispatchMany(items, { confirm: true });
        const partitions = new Set(users.map((u) => partitionOf(slotOf(u))));
        const broadcast = broadcastAboveKeys === 1;
        assert.equal(published, granularity === 'slot' || broadcast ? 1 : partitions.size);

        const forA = items.filter((_, n) => n % 4 === 0 || n % 4 === 1).map((_, i, arr) => arr[i]!);
        const forB = items.filter((_, n) => n % 4 === 1 || n % 4 === 2);
        await waitFor(() => a.received.length >= forA.length && b.received.length >= forB.length, 'deliveries');
        // Re-dispatching the same ids (a persister retry) hands nothing over again; a fresh probe
        // dispatched after it proves the repeat was consumed before we look.
        await svc.dispatchMany(items, { confirm: true });
        await svc.dispatchMany([{ envelope: event(99, users[0]!), target: { users: [users[0]!] }, id: 'probe' }], {
          confirm: true,
        });
        await waitFor(() => a.received.some((r) => r.n === 99), 'probe');
        await sleep(200);
        assert.deepEqual(
          a.received.map((r) => r.n),
          [...forA.map((i) => Number(i.id.slice(3))), 99],
        );
        assert.deepEqual(
          b.received.map((r) => r.n),
          forB.map((i) => Number(i.id.slice(3))),
        );
        assert.deepEqual(c.received, []);
        assert.equal(a.received[0]!.id, 'ev-0', 'the record id is the delivery messageId');
        assert.equal(a.received[0]!.text, 'a\tb\nc 0');
        // b saw records for users[0] and users[3] in its bundles (or none in user granularity where
        // partitions separate them): they are counted as foreign, never handed over.
        const foreignB = await metric(b.router, /chat_router_bundle_records_total\{outcome="foreign"\} (\d+)/);
        if (granularity === 'slot' || broadcast) assert.ok(foreignB >= 20, `foreign records skipped by b: ${foreignB}`);
        const broadcasts = await metric(svc, /chat_router_broadcasts_total (\d+)/);
        if (broadcast) {
          // c binds no user key: it got both 40-record bundles through the broadcast key and kept none.
          await waitFor(
            async () => (await metric(c.router, /chat_router_bundle_records_total\{outcome="foreign"\} (\d+)/)) === 80,
            'c skipping both bundles',
          );
          assert.equal(broadcasts, 2, 'the one-key probe went to its key');
        } else {
          assert.equal(broadcasts, 0);
        }
      });
    }

    it('an invalid envelope rejects the whole call before anything is published', async () => {
      fx = routerFixture({ granularity, label: `bundle-bad-${granularity}` });
      const a = await gateway(fx, 'a');
      const svc = fx.make();
      await a.router.attach('ursula');
      await assert.rejects(
        svc.dispatchMany([
          { envelope: event(1, 'ursula'), target: { users: ['ursula'] } },
          {
            envelope: { v: 1, type: 'dispatch', event: 'NOPE', to: ['ursula'], data: {} } as never,
            target: { users: ['ursula'] },
          },
        ]),
        InvalidEnvelopeError,
      );
      await svc.dispatchMany([{ envelope: event(2, 'ursula'), target: { users: ['ursula'] } }], { confirm: true });
      await waitFor(() => a.received.length >= 1, 'the valid dispatch');
      await sleep(200);
      assert.deepEqual(
        a.received.map((r) => r.n),
        [2],
      );
      assert.equal(await svc.dispatchMany([{ envelope: event(3, 'x'), target: { users: [] } }]), 0);
    });
  });
}

describe('dispatchMany bundle sizes', () => {
  let fx: RouterFixture;
  afterEach(async () => fx.cleanup());

  it('600 records go out as 3 bundles of at most 256 and arrive complete and in order', async () => {
    fx = routerFixture({ label: 'bundle-size' });
    const a = await gateway(fx, 'a');
    const svc = fx.make();
    await a.router.attach('vera');
    const items = Array.from({ length: 600 }, (_, n) => ({ envelope: event(n, 'vera'), target: { users: ['vera'] } }));
    assert.equal(await svc.dispatchMany(items, { confirm: true }), 3);
    await waitFor(() => a.received.length >= 600, 'all records');
    assert.deepEqual(
      a.received.map((r) => r.n),
      items.map((_, n) => n),
    );
  });
});
