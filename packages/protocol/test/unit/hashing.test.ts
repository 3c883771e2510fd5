import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketOf, fnv1a32, makeSnowflake, parseSnowflake, partitionOf, slotOf } from '@chat/protocol';

// docs/protocol.md §1.3, verbatim.
const VECTORS = [
  { userId: '', fnv: 2166136261, slot: 453, partition: 5 },
  { userId: 'u1', fnv: 71477235, slot: 1011, partition: 3 },
  { userId: 'alice', fnv: 2267157479, slot: 999, partition: 7 },
  { userId: '1234567890123456789', fnv: 3851095807, slot: 767, partition: 15 },
  { userId: 'Zoë', fnv: 3265445340, slot: 476, partition: 12 },
];

describe('hashing (docs/protocol.md §1 test vectors)', () => {
  for (const v of VECTORS) {
    it(`user ${JSON.stringify(v.userId)} hashes to ${v.fnv}, slot ${v.slot}, partition ${v.partition}`, () => {
      assert.equal(fnv1a32(v.userId), v.fnv);
      assert.equal(slotOf(v.userId), v.slot);
      assert.equal(slotOf(v.userId, 1024), v.slot);
      assert.equal(partitionOf(v.slot), v.partition);
      assert.equal(partitionOf(v.slot, 16), v.partition);
    });
  }

  it('hashes the UTF-8 bytes, not UTF-16 code units', () => {
    // "ë" is two UTF-8 bytes; hashing char codes would give a different value.
    assert.notEqual(fnv1a32('Zoë'), fnv1a32('Zo\u00eb'.normalize('NFD')));
    assert.equal(fnv1a32('Zoë'), 3265445340);
  });

  it('every slot of a partition maps back to that partition when S is a multiple of P', () => {
    for (let slot = 0; slot < 1024; slot++) assert.equal(partitionOf(slot, 16), slot % 16);
  });

  it('the snowflake test vector encodes to "264905529753620487" and lies in bucket 73', () => {
    const id = makeSnowflake(Date.parse('2026-01-01T00:00:00Z'), 5, 7);
    assert.equal(id.toString(), '264905529753620487');
    assert.equal(bucketOf('264905529753620487'), 73);
    assert.equal(bucketOf(id), 73);
    assert.deepEqual(parseSnowflake('264905529753620487'), {
      timestampMs: Date.parse('2026-01-01T00:00:00Z'),
      workerId: 5,
      sequence: 7,
    });
  });

  it('buckets are 10-day windows since the chat epoch', () => {
    assert.equal(bucketOf(makeSnowflake(Date.parse('2024-01-01T00:00:00Z'), 0, 0)), 0);
    assert.equal(bucketOf(makeSnowflake(Date.parse('2024-01-10T23:59:59.999Z'), 1023, 4095)), 0);
    assert.equal(bucketOf(makeSnowflake(Date.parse('2024-01-11T00:00:00Z'), 0, 0)), 1);
  });
});
