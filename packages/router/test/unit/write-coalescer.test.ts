// The write coalescer against a recording publisher: which writes leave together, per turn, with group
// commit (maxInFlight) and with an interval between bundles.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_WRITES, type PendingWrite, WriteCoalescer } from '../../src/internal/write-bundle.js';

const turn = () => new Promise((r) => setImmediate(r));

function write(id: string): PendingWrite & { settled: Promise<void> } {
  let resolve!: () => void;
  const settled = new Promise<void>((r) => {
    resolve = r;
  });
  return { json: `{"id":"${id}"}`, type: 'message.create', id, resolve, reject: () => {}, settled };
}

/** Records the ids of each group; `hold` keeps groups unconfirmed until released. */
function recorder(hold = false) {
  const groups: string[][] = [];
  const release: Array<() => void> = [];
  const publish = (group: PendingWrite[]) => {
    groups.push(group.map((w) => w.id));
    const done = () => {
      for (const w of group) w.resolve();
    };
    if (!hold) {
      done();
      return Promise.resolve();
    }
    return new Promise<void>((r) => release.push(() => (done(), r())));
  };
  return { groups, release, publish };
}

describe('WriteCoalescer', () => {
  it('writes of one turn leave as one group; with maxInFlight 1, writes meanwhile wait for the confirm', async () => {
    const r = recorder(true);
    const c = new WriteCoalescer(r.publish, 1);
    c.add(write('a'));
    c.add(write('b'));
    await turn();
    assert.deepEqual(r.groups, [['a', 'b']]);
    c.add(write('c'));
    await turn();
    c.add(write('d'));
    await turn();
    assert.deepEqual(r.groups, [['a', 'b']], 'c and d wait while a+b is unconfirmed');
    r.release.shift()!();
    await turn();
    assert.deepEqual(r.groups, [
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('with an interval, writes of later turns within it leave together once it has passed', async () => {
    const r = recorder();
    const c = new WriteCoalescer(r.publish, 1, 200);
    const first = write('a');
    c.add(first);
    await first.settled; // the first write after a quiet spell goes at once
    assert.deepEqual(r.groups, [['a']]);
    const b = write('b');
    c.add(b);
    await turn();
    const d = write('c');
    c.add(d);
    await turn();
    assert.deepEqual(r.groups, [['a']], 'held: the interval since a has not passed');
    await Promise.all([b.settled, d.settled]);
    assert.deepEqual(r.groups, [['a'], ['b', 'c']], 'one bundle for the writes of two turns');
  });

  it('a full bundle leaves at once, interval or not', async () => {
    const r = recorder();
    const c = new WriteCoalescer(r.publish, 1, 300);
    c.add(write('first'));
    await turn();
    const ids = Array.from({ length: MAX_WRITES + 1 }, (_, i) => `w${i}`);
    const writes = ids.map(write);
    for (const w of writes) c.add(w);
    assert.equal(r.groups.length, 2, 'the 65th write pushed out a full bundle synchronously');
    assert.equal(r.groups[1]!.length, MAX_WRITES);
    assert.deepEqual(r.groups[1], ids.slice(0, MAX_WRITES));
    await writes.at(-1)!.settled; // the 65th leaves after the interval
    assert.deepEqual(r.groups[2], [`w${MAX_WRITES}`]);
  });
});
