import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupSizes } from '../../src/group-sizes.js';

describe('GroupSizes', () => {
  it('counts once per channel and bound within the ttl, concurrent asks included, then counts again', async () => {
    const calls: string[] = [];
    const sizes = new GroupSizes(async (id, upTo) => {
      calls.push(`${id}/${upTo}`);
      return id === 'big' ? upTo : 3;
    }, 1000);
    const t = 1_000_000;
    const [a, b] = await Promise.all([sizes.memberCount('big', 101, t), sizes.memberCount('big', 101, t + 1)]);
    assert.deepEqual([a, b], [101, 101]);
    assert.equal(await sizes.memberCount('small', 101, t + 500), 3);
    assert.equal(await sizes.memberCount('big', 101, t + 999), 101);
    assert.deepEqual(calls, ['big/101', 'small/101']);
    await sizes.memberCount('big', 101, t + 1000); // the ttl has passed
    assert.deepEqual(calls, ['big/101', 'small/101', 'big/101']);
    await sizes.memberCount('big', 5, t + 1000); // another bound is another count
    assert.equal(calls.length, 4);
  });

  it('does not remember a failed count, and holds at most its bound of counts', async () => {
    let fail = true;
    const sizes = new GroupSizes(
      async () => {
        if (fail) throw new Error('store down');
        return 7;
      },
      60_000,
      3,
    );
    await assert.rejects(sizes.memberCount('g', 10), /store down/);
    await new Promise((r) => setImmediate(r));
    fail = false;
    assert.equal(await sizes.memberCount('g', 10), 7);
    for (const id of ['a', 'b', 'c', 'd']) await sizes.memberCount(id, 10);
    assert.equal(sizes.size, 3);
  });
});
