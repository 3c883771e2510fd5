// The binding table against a recording executor: the broker's answers are released by the
// test, so the order of operations and coalescing can be asserted exactly. Real bindings are
// covered by the integration tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BindingTable } from '../../src/internal/bindings.js';

class RecordingExecutor {
  readonly ops: string[] = [];
  readonly pending: Array<{ op: string; done: () => void; fail: (e: Error) => void }> = [];
  auto = true;
  bind(key: string, lane: number) {
    return this.#op(`bind ${key}`, lane);
  }
  unbind(key: string, lane: number) {
    return this.#op(`unbind ${key}`, lane);
  }
  #op(op: string, _lane: number): Promise<void> {
    this.ops.push(op);
    if (this.auto) return Promise.resolve();
    return new Promise((done, fail) => this.pending.push({ op, done, fail }));
  }
}

const tick = () => new Promise((r) => setImmediate(r));

async function connected(table: BindingTable, exec: RecordingExecutor) {
  await table.reconcile(exec);
}

describe('BindingTable', () => {
  it('two references to one key cost one bind, and one unbind after the last release', async () => {
    const exec = new RecordingExecutor();
    const table = new BindingTable({ lanes: 4, lingerMs: 0 });
    await connected(table, exec);
    await Promise.all([table.acquire('s.1'), table.acquire('s.1')]);
    assert.deepEqual(exec.ops, ['bind s.1']);
    table.release('s.1');
    await tick();
    await table.settled();
    assert.deepEqual(exec.ops, ['bind s.1'], 'one reference left: still bound');
    table.release('s.1');
    await tick();
    await table.settled();
    assert.deepEqual(exec.ops, ['bind s.1', 'unbind s.1']);
    assert.equal(table.boundKeys, 0);
    assert.equal(table.references, 0);
  });

  it('an attach and detach in the same turn issue nothing', async () => {
    const exec = new RecordingExecutor();
    const table = new BindingTable({ lanes: 4, lingerMs: 0 });
    await connected(table, exec);
    const p = table.acquire('s.9');
    table.release('s.9');
    await tick();
    await table.settled();
    assert.deepEqual(exec.ops, []);
    // The attach promise still settles (the key was wanted, then not), so nobody waits forever.
    assert.equal(await Promise.race([p.then(() => 'settled'), sleep(50).then(() => 'pending')]), 'settled');
  });

  it('a detach followed by a re-attach within the linger keeps the binding without any operation', async () => {
    const exec = new RecordingExecutor();
    const table = new BindingTable({ lanes: 2, lingerMs: 100 });
    await connected(table, exec);
    await table.acquire('u.alice');
    table.release('u.alice');
    await sleep(20);
    await table.acquire('u.alice');
    await sleep(150);
    await table.settled();
    assert.deepEqual(exec.ops, ['bind u.alice']);
    table.release('u.alice');
    await sleep(150);
    await table.settled();
    assert.deepEqual(exec.ops, ['bind u.alice', 'unbind u.alice']);
  });

  it('runs one operation per key at a time and ends in the last wanted state', async () => {
    const exec = new RecordingExecutor();
    const table = new BindingTable({ lanes: 1, lingerMs: 0 });
    await connected(table, exec);
    exec.auto = false;
    const attached = table.acquire('s.5');
    await tick();
    assert.deepEqual(exec.ops, ['bind s.5']);
    table.release('s.5'); // while the bind is in flight
    await tick();
    assert.equal(exec.pending.length, 1, 'no second operation while the first is in flight');
    exec.pending.shift()!.done();
    await tick();
    await tick();
    assert.deepEqual(exec.ops, ['bind s.5', 'unbind s.5']);
    exec.pending.shift()!.done();
    await table.settled();
    assert.equal(table.boundKeys, 0);
    void attached;
  });

  it('after a reconnect, re-binds every wanted key and unbinds keys released during the outage', async () => {
    const exec1 = new RecordingExecutor();
    const table = new BindingTable({ lanes: 4, lingerMs: 0 });
    await connected(table, exec1);
    await Promise.all([table.acquire('s.1'), table.acquire('s.2'), table.acquire('s.3')]);
    table.detachExecutor(); // connection lost
    table.release('s.2');
    const pendingAttach = table.acquire('s.4');
    await tick();
    const exec2 = new RecordingExecutor();
    await table.reconcile(exec2);
    await pendingAttach;
    assert.deepEqual(exec2.ops.sort(), ['bind s.1', 'bind s.3', 'bind s.4', 'unbind s.2']);
    assert.equal(table.boundKeys, 3);
  });

  it('retries a failed operation on the same connection', async () => {
    const exec = new RecordingExecutor();
    const table = new BindingTable({ lanes: 1, lingerMs: 0, retryDelayMs: 10 });
    await connected(table, exec);
    exec.auto = false;
    const attached = table.acquire('s.7');
    await tick();
    exec.pending.shift()!.fail(new Error('channel busy'));
    await sleep(30);
    assert.deepEqual(exec.ops, ['bind s.7', 'bind s.7']);
    exec.pending.shift()!.done();
    await attached;
    assert.ok(table.isBound('s.7'));
  });

  it('lastDoneAt moves with every operation that succeeded, not with a failed one', async () => {
    const exec = new RecordingExecutor();
    const table = new BindingTable({ lanes: 1, lingerMs: 0, retryDelayMs: 10 });
    await connected(table, exec);
    assert.equal(table.lastDoneAt, 0);
    exec.auto = false;
    const attached = table.acquire('s.8');
    await tick();
    exec.pending.shift()!.fail(new Error('channel busy'));
    await tick();
    assert.equal(table.lastDoneAt, 0, 'a failure is no progress');
    while (exec.pending.length === 0) await sleep(5);
    const before = Date.now();
    exec.pending.shift()!.done();
    await attached;
    assert.ok(table.lastDoneAt >= before);
  });

  it('hands a lane one operation at a time, binds first; a key re-acquired before its unbind was sent costs nothing', async () => {
    const exec = new RecordingExecutor();
    const table = new BindingTable({ lanes: 1, lingerMs: 0 });
    await connected(table, exec);
    await Promise.all(['s.1', 's.2', 's.3'].map((k) => table.acquire(k)));
    exec.ops.length = 0;
    exec.auto = false;
    for (const k of ['s.1', 's.2', 's.3']) table.release(k); // a storm: every socket gone
    await tick();
    assert.deepEqual(exec.ops, ['unbind s.1'], 'one operation on the lane at a time');
    // The users come back (s.2) and a new one arrives (s.4) while the first unbind is in flight.
    const back = table.acquire('s.2');
    const fresh = table.acquire('s.4');
    await tick();
    exec.pending.shift()!.done();
    await back; // s.2 was still bound: nothing to do
    await tick();
    assert.deepEqual(
      exec.ops,
      ['unbind s.1', 'bind s.4'],
      'the bind an attach waits for goes before the unbind of s.3',
    );
    exec.pending.shift()!.done();
    await fresh;
    await tick();
    assert.deepEqual(exec.ops, ['unbind s.1', 'bind s.4', 'unbind s.3']);
    exec.pending.shift()!.done();
    await table.settled();
    assert.ok(table.isBound('s.2') && table.isBound('s.4') && !table.isBound('s.1') && !table.isBound('s.3'));
  });

  it('paces the unbinds of released keys (a burst, then unbindsPerSecond); keys wanted again meanwhile cost nothing; drain is not paced', async () => {
    const exec = new RecordingExecutor();
    const table = new BindingTable({ lanes: 2, lingerMs: 0, unbindsPerSecond: 10 });
    await connected(table, exec);
    const keys = Array.from({ length: 40 }, (_, i) => `s.${i}`);
    await Promise.all(keys.map((k) => table.acquire(k)));
    exec.ops.length = 0;
    for (const k of keys) table.release(k); // every socket gone at once
    await sleep(50);
    const first = exec.ops.filter((o) => o.startsWith('unbind')).length;
    assert.ok(first >= 10 && first <= 11, `the burst: ${first} unbinds`);
    // Most users come back before their keys' unbinds went out: nothing to send for them.
    const back = keys.filter((k) => !exec.ops.includes(`unbind ${k}`)).slice(0, 25);
    await Promise.all(back.map((k) => table.acquire(k)));
    await tick();
    assert.ok(!exec.ops.some((o) => o.startsWith('bind')), 'no bind for a key still bound');
    assert.ok(
      back.every((k) => table.isBound(k)),
      'keys wanted again are bound',
    );
    const started = performance.now();
    await table.settled(); // the rest (40 - 25 - the burst) at 10 per second
    const unbound = exec.ops.filter((o) => o.startsWith('unbind')).length;
    assert.equal(unbound, 40 - 25);
    assert.ok(performance.now() - started >= 250, 'paced, not at once');
    // Drain (releaseAll) unbinds everything at once, whatever the pace.
    exec.ops.length = 0;
    table.releaseAll();
    await tick();
    await table.settled();
    assert.equal(exec.ops.length, 25);
    assert.equal(table.boundKeys, 0);
  });

  it('close rejects attaches that are still waiting', async () => {
    const table = new BindingTable({ lanes: 1, lingerMs: 0 });
    const attached = table.acquire('s.1'); // no executor yet: waits
    table.close();
    await assert.rejects(attached, /closed/);
  });
});
