import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  createWorld,
  createWrite,
  type PersisterProcess,
  startPersister,
  type World,
  waitFor,
  writeCreates,
} from './harness.js';

/** Every channel's count equals its stored messages, with ordinals exactly 1..count; authors have nothing unread. */
async function assertCountsExact(world: World) {
  for (const ch of world.channels) {
    const stored = await world.db.collection('messages').countDocuments({ channel_id: ch.id });
    const ordinals = await world.db
      .collection('messages')
      .find({ channel_id: ch.id, n: { $type: 'number' } }, { projection: { n: 1 } })
      .toArray();
    assert.equal(ordinals.length, stored, `channel ${ch.id}: ${ordinals.length} ordinals for ${stored} messages`);
    assert.deepEqual(
      ordinals.map((o) => o.n as number).sort((a, b) => a - b),
      Array.from({ length: stored }, (_, i) => i + 1),
      `channel ${ch.id}: ordinals 1..${stored}`,
    );
    const count = (await world.store.counts.countsOf([ch.id])).get(ch.id)?.count ?? 0;
    assert.equal(count, stored, `channel ${ch.id}: count ${count}, stored ${stored}`);
    if (stored > 0) {
      // Every write of the harness is by the channel's first member: sending leaves them nothing unread.
      const own = (await world.store.counts.countsFor(ch.members[0]!, [ch.id])).get(ch.id)?.own;
      assert.equal(own?.n, stored);
    }
  }
}

describe('persister message counts', () => {
  let world: World;
  const procs: PersisterProcess[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) {
      p.kill('SIGKILL');
      await p.exited;
    }
    await world?.close();
  });

  it('a write published twice is counted once: every channel count equals its stored messages', async () => {
    world = await createWorld({ channels: 6 });
    procs.push(await startPersister(world.env()));
    const writes = Array.from({ length: 300 }, (_, n) => createWrite(world, n));
    // Each envelope twice, the second copy in a later batch or the same one.
    for (const w of writes) await world.service.durableWrite(w);
    for (const w of writes.slice(0, 150)) await world.service.durableWrite(w);
    await waitFor(async () => (await world.storedCount()) >= 300, '300 stored');
    await waitFor(() => world.persistQueueIdle(), 'the persist queue to drain');
    await assertCountsExact(world);
    const total = await world.db.collection('messages').countDocuments({});
    assert.equal(total, 300);
  });

  it('two persisters racing on the same channels, every envelope twice: counts exact, ordinals 1..N', async () => {
    world = await createWorld({ channels: 2 });
    procs.push(await startPersister(world.env()), await startPersister(world.env()));
    const writes = Array.from({ length: 400 }, (_, n) => createWrite(world, n));
    for (const w of writes) await world.service.durableWrite(w);
    for (const w of writes) await world.service.durableWrite(w);
    await waitFor(async () => (await world.storedCount()) >= 400, '400 stored');
    await waitFor(() => world.persistQueueIdle(), 'the persist queue to drain');
    await assertCountsExact(world);
  });

  it('a persister SIGKILLed mid-stream and restarted leaves every count exact (redelivered batches counted once)', async () => {
    world = await createWorld({ channels: 8 });
    const first = await startPersister(world.env());
    procs.push(first);
    const writing = writeCreates(world, 0, 6000, 32);
    await waitFor(async () => (await world.storedCount()) > 1500, 'the persister to be well into the stream', 60_000);
    first.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    procs.push(await startPersister(world.env()));
    const confirmed = await writing;
    await waitFor(async () => (await world.storedCount()) >= confirmed.size, `${confirmed.size} stored`, 120_000);
    await waitFor(() => world.persistQueueIdle(), 'the persist queue to drain', 60_000);
    await assertCountsExact(world);
  });
});
