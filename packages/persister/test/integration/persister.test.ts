import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { amqpUserOf, type DurableWrite, makeSnowflake } from '@chat/router';
import { amqpUrl, startRedisServer, startTcpProxy } from '@chat/testkit';
import amqp from 'amqplib';
import { Long } from 'mongodb';
import {
  createWorld,
  createWrite,
  type PersisterProcess,
  startPersister,
  storedByPersister,
  type World,
  waitFor,
  writeCreates,
} from './harness.js';

/** Every confirmed id is stored exactly once and reached every gateway that has a member of its channel. */
async function assertStoredAndDispatched(world: World, confirmed: Set<string>, timeoutMs = 60_000) {
  await waitFor(
    async () => (await world.storedCount()) >= confirmed.size,
    `${confirmed.size} stored messages`,
    timeoutMs,
  );
  const docs = await world.db
    .collection('messages')
    .find({}, { projection: { _id: 1, channel_id: 1 } })
    .toArray();
  const counts = new Map<string, number>();
  for (const d of docs) {
    const id = BigInt.asUintN(64, (d._id as unknown as Long).toBigInt()).toString();
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const missing = [...confirmed].filter((id) => !counts.has(id));
  assert.deepEqual(missing, [], `${missing.length} confirmed writes not stored`);
  for (const [id, n] of counts) assert.equal(n, 1, `message ${id} stored ${n} times`);
  const channelOf = new Map(
    docs.map((d) => [BigInt.asUintN(64, (d._id as unknown as Long).toBigInt()).toString(), d.channel_id as string]),
  );
  await waitFor(
    () =>
      [...confirmed].every((id) =>
        world.expectedGateways(channelOf.get(id)!).every((g) => world.gateways[g]!.received.has(id)),
      ),
    'every stored message to reach its gateways',
    timeoutMs,
  );
}

describe('persister', () => {
  let world: World;
  const procs: PersisterProcess[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) {
      p.kill('SIGKILL');
      await p.exited;
    }
    await world?.close();
  });

  it('every confirmed durable write is stored exactly once and dispatched to every member’s gateway queue', async () => {
    world = await createWorld();
    procs.push(await startPersister(world.env()));
    const confirmed = await writeCreates(world, 0, 2000);
    await assertStoredAndDispatched(world, confirmed);
    // Nothing reached a gateway without a member in that channel.
    const docs = await world.db
      .collection('messages')
      .find({}, { projection: { channel_id: 1 } })
      .toArray();
    const channelOf = new Map(
      docs.map((d) => [BigInt.asUintN(64, (d._id as unknown as Long).toBigInt()).toString(), d.channel_id as string]),
    );
    for (const [g, gw] of world.gateways.entries()) {
      for (const id of gw.received.keys()) {
        assert.ok(world.expectedGateways(channelOf.get(id)!).includes(g), `gateway ${g} got ${id} without a member`);
      }
    }
    const stored = await world.store.messages.history(world.channels[0]!.id, { limit: 1 });
    assert.equal(stored[0]!.type, 0);
    assert.match(stored[0]!.content, /^message \d+/);
  });

  it('group commit: while a batch cannot be stored, no other batch starts; the backlog goes in full batches, each write once', async () => {
    world = await createWorld();
    const proxy = await startTcpProxy({ port: Number(new URL(world.mongoUrl).port) });
    try {
      /** Batches started while MongoDB is cut and 600 writes wait, with `maxBatches` at once. */
      const startedWhileCut = async (maxBatches: string, from: number) => {
        const proc = await startPersister(
          world.env({
            MONGO_URL: proxy.wrap(world.mongoUrl),
            PERSISTER_MAX_BATCHES: maxBatches,
            PERSISTER_BATCH_MS: '1',
          }),
        );
        procs.push(proc);
        proxy.cut();
        const writing = writeCreates(world, from, 600, 8);
        const scrape = async () => (await fetch(`http://127.0.0.1:${proc.httpPort}/metrics`)).text();
        const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
        await waitFor(async () => metric(await scrape(), 'chat_persister_in_flight') >= 600, 'every write taken');
        const batches = metric(await scrape(), 'chat_persister_batch_size_count');
        proxy.restore();
        const confirmed = await writing;
        await waitFor(async () => (await world.storedCount()) >= from + 600, `${from + 600} stored`, 60_000);
        await assertStoredAndDispatched(world, confirmed);
        proc.kill('SIGTERM');
        await proc.exited;
        return batches;
      };
      const unlimited = await startedWhileCut('0', 0);
      const one = await startedWhileCut('1', 600);
      assert.ok(unlimited > 1, `without a limit, ${unlimited} batches started while the store was cut`);
      assert.equal(one, 1, 'with one batch at a time, only the first batch started while the store was cut');
    } finally {
      await proxy.close();
    }
  });

  it('a persister SIGKILLed in the middle of 20,000 writes and restarted leaves every confirmed write stored exactly once and dispatched', async () => {
    world = await createWorld();
    const first = await startPersister(world.env());
    procs.push(first);
    const writing = writeCreates(world, 0, 20_000, 64);
    await waitFor(async () => (await world.storedCount()) > 4000, 'the persister to be well into the stream', 60_000);
    first.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    await sleep(500);
    procs.push(await startPersister(world.env()));
    const confirmed = await writing;
    assert.equal(confirmed.size, 20_000);
    await assertStoredAndDispatched(world, confirmed, 120_000);
  });

  it('MongoDB unreachable for 10 s during a stream loses no write, and the backlog drains when it returns', async () => {
    world = await createWorld();
    const proxy = await startTcpProxy({ port: Number(new URL(world.mongoUrl).port) });
    try {
      const p = await startPersister(world.env({ MONGO_URL: proxy.wrap(world.mongoUrl) }));
      procs.push(p);
      const writing = writeCreates(world, 0, 3000, 32);
      await waitFor(async () => (await world.storedCount()) > 500, 'the stream to get going');
      proxy.cut();
      const cutAt = Date.now();
      const storedAtCut = await world.storedCount();
      await sleep(10_000);
      const storedDuringCut = (await world.storedCount()) - storedAtCut;
      proxy.restore();
      const confirmed = await writing;
      await assertStoredAndDispatched(world, confirmed);
      assert.ok(Date.now() - cutAt >= 10_000);
      // A batch may have been half-written when the cut came; nothing more than that while cut.
      assert.ok(storedDuringCut <= 500, `${storedDuringCut} stored while MongoDB was unreachable`);
      assert.ok(
        p.logs.some((l) => l.includes('store failed; retrying')),
        'the persister reported the outage',
      );
    } finally {
      await proxy.close();
    }
  });

  it('a poison message lands in the dead-letter queue with its reason and the messages after it are stored', async () => {
    world = await createWorld();
    procs.push(await startPersister(world.env()));
    const before = await writeCreates(world, 0, 10);
    const conn = await amqp.connect(amqpUrl());
    const tooLong: DurableWrite = { ...createWrite(world, 10), content: 'x'.repeat(4001) };
    const unknownChannelAuthor = { ...createWrite(world, 11), author: { id: '', username: 'nobody' } };
    const anonymous = createWrite(world, 30);
    try {
      const ch = await conn.createConfirmChannel();
      const q = world.service.names.persistQueue;
      // As the persister's own AMQP user (the writer it accepts by default), so the content decides…
      const asWriter = { persistent: true, userId: amqpUserOf(amqpUrl()) };
      ch.sendToQueue(q, Buffer.from('{"not":"json"'), asWriter);
      ch.sendToQueue(q, Buffer.from(JSON.stringify(tooLong)), asWriter);
      ch.sendToQueue(q, Buffer.from(JSON.stringify(unknownChannelAuthor)), asWriter);
      // …and a well-formed write without user_id, which the persister must not store.
      ch.sendToQueue(q, Buffer.from(JSON.stringify(anonymous)), { persistent: true });
      await ch.waitForConfirms();
      await ch.close();
    } finally {
      await conn.close();
    }
    const after = await writeCreates(world, 12, 10);
    await assertStoredAndDispatched(world, new Set([...before, ...after]));
    const reasons = new Map<string, string>();
    const conn2 = await amqp.connect(amqpUrl());
    try {
      const ch = await conn2.createChannel();
      await waitFor(async () => {
        const m = await ch.get(world.service.names.deadQueue, { noAck: true });
        if (m) reasons.set(m.content.toString(), String(m.properties.headers?.['x-chat-dead-reason']));
        return reasons.size >= 4;
      }, 'four dead letters');
      await ch.close();
    } finally {
      await conn2.close();
    }
    assert.deepEqual([...reasons.values()].sort(), [
      'content_too_long',
      'invalid_author',
      'invalid_json',
      'writer_not_allowed',
    ]);
    for (const unstored of [tooLong, anonymous]) {
      assert.equal(
        await world.db.collection('messages').countDocuments({ _id: Long.fromBigInt(BigInt(unstored.id)) as never }),
        0,
      );
    }
  });

  it('edits and deletes that arrive out of order or twice end in the same state as in order and once, and are delivered', async () => {
    world = await createWorld({ channels: 1 });
    const persister = await startPersister(world.env());
    procs.push(persister);
    const ch = world.channels[0]!;
    const author = ch.members[0]!;
    const T = Date.now();
    const msgA = { ...createWrite(world, 1), id: makeSnowflake(T, 5, 1).toString() };
    const msgB = { ...createWrite(world, 2), id: makeSnowflake(T, 5, 2).toString() };
    await world.service.durableWrite(msgA);
    await world.service.durableWrite(msgB);
    const edit = (m: DurableWrite, n: number, content: string): DurableWrite => ({
      v: 1,
      type: 'message.update',
      id: makeSnowflake(T + n, 6, 0).toString(),
      message_id: m.id,
      channel_id: ch.id,
      author_id: author,
      content,
    });
    const del = (m: DurableWrite, n: number): DurableWrite => ({
      v: 1,
      type: 'message.delete',
      id: makeSnowflake(T + n, 6, 0).toString(),
      message_id: m.id,
      channel_id: ch.id,
      author_id: author,
    });
    // A: edits 1, 2, 3 arrive as 3, 1, 3, 2. B: edit 4 then delete 5 arrive as delete, edit, delete.
    for (const w of [
      edit(msgA, 3, 'A3'),
      edit(msgA, 1, 'A1'),
      edit(msgA, 3, 'A3'),
      edit(msgA, 2, 'A2'),
      del(msgB, 5),
      edit(msgB, 4, 'B4'),
      del(msgB, 5),
    ]) {
      await world.service.durableWrite(w);
    }
    // Every write stored, dispatched and acked (an empty queue alone says only that all were delivered).
    await waitFor(async () => (await storedByPersister(persister)) === 9, 'the nine writes to be acked');
    const a = await world.store.messages.get(ch.id, msgA.id);
    assert.equal(a?.content, 'A3');
    assert.equal(await world.store.messages.get(ch.id, msgB.id), null, 'B is deleted');
    const events = world.gateways.flatMap((g) => g.events);
    assert.ok(events.some((e) => e.event === 'MESSAGE_UPDATE' && (e.data as { content: string }).content === 'A3'));
    assert.ok(events.some((e) => e.event === 'MESSAGE_DELETE' && (e.data as { id: string }).id === msgB.id));
    assert.ok(
      !events.some((e) => e.event === 'MESSAGE_UPDATE' && (e.data as { content: string }).content === 'B4'),
      'no edit of a deleted message is delivered',
    );
  });

  it('with Redis killed mid-stream, the persister keeps storing and dispatching (membership from MongoDB)', async () => {
    world = await createWorld();
    const redis = await startRedisServer();
    try {
      const p = await startPersister(world.env({ REDIS_URL: redis.url }));
      procs.push(p);
      const writing = writeCreates(world, 0, 3000, 32);
      await waitFor(async () => (await world.storedCount()) > 500, 'the stream to get going');
      await redis.kill();
      const confirmed = await writing;
      await assertStoredAndDispatched(world, confirmed);
      assert.ok(
        p.logs.some((l) => l.includes('membership')),
        'the persister noticed Redis was gone',
      );
    } finally {
      await redis.stop();
    }
  });

  it('on SIGTERM the persister stops consuming, finishes and acks what is in flight, and exits within its timeout', async () => {
    world = await createWorld();
    const p = await startPersister(world.env({ SHUTDOWN_TIMEOUT_MS: '5000' }));
    procs.push(p);
    const writing = writeCreates(world, 0, 5000, 32);
    await waitFor(async () => (await world.storedCount()) > 1000, 'the stream to get going');
    const t0 = Date.now();
    p.kill('SIGTERM');
    assert.equal(await p.exited, 0, 'clean exit: everything in flight was acked');
    assert.ok(Date.now() - t0 < 7000, 'exited within the shutdown timeout');
    const confirmed = await writing;
    // The rest waited in the queue for the next persister; nothing was lost or stored twice.
    const second = await startPersister(world.env());
    procs.push(second);
    await assertStoredAndDispatched(world, confirmed);
    // A write the first persister stored but whose ack was lost would come back to the second one
    // as a duplicate. (The broker may still return prefetched writes the first one never received,
    // and a write the test had to retry can legitimately be in the queue twice.)
    const metrics = await fetch(`http://127.0.0.1:${second.httpPort}/metrics`).then((r) => r.text());
    const duplicates = Number(/^chat_persister_duplicates_total (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(
      duplicates <= confirmed.retries,
      `every write the stopped persister stored was acked (${duplicates} duplicates, ${confirmed.retries} retried publishes)`,
    );
  });
});
