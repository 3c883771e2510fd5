import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CHAT_EPOCH_MS,
  compareIds,
  firstIdAt,
  isSnowflake,
  maxId,
  resumeSince,
  timestampOfId,
} from '../../src/internal/snowflake.js';

// docs/protocol.md §1 test vector: 2026-01-01T00:00:00Z, worker 5, sequence 7.
const VECTOR = '264905529753620487';
const VECTOR_MS = Date.parse('2026-01-01T00:00:00Z');

describe('snowflake arithmetic', () => {
  it('reads the time of the protocol test vector', () => {
    assert.equal(timestampOfId(VECTOR), VECTOR_MS);
    assert.equal(firstIdAt(VECTOR_MS), (BigInt(VECTOR_MS - CHAT_EPOCH_MS) << 22n).toString());
    assert.ok(compareIds(firstIdAt(VECTOR_MS), VECTOR) < 0, 'the first id of a millisecond is a lower bound');
    assert.equal(firstIdAt(0), '0', 'times before the epoch clamp to 0');
  });

  it('compares ids as 64-bit integers, where Number would call them equal', () => {
    assert.equal(Number('9007199254740993'), Number('9007199254740992'));
    assert.equal(compareIds('9007199254740993', '9007199254740992'), 1);
    assert.equal(compareIds('18446744073709551615', '9'), 1);
    assert.equal(compareIds('10', '9'), 1, 'not string order');
    assert.equal(compareIds(VECTOR, VECTOR), 0);
    assert.equal(maxId(null, '5'), '5');
    assert.equal(maxId('10', '9'), '10');
    assert.equal(maxId('9', '10'), '10');
  });

  it('accepts only decimal strings that fit in 64 unsigned bits as ids', () => {
    assert.ok(isSnowflake(VECTOR));
    assert.ok(isSnowflake('0'));
    assert.ok(isSnowflake('18446744073709551615'));
    for (const bad of ['18446744073709551616', '-1', '01', '1.5', '', ' 1', 1, null, undefined])
      assert.ok(!isSnowflake(bad), String(bad));
  });

  it('computes the RESUME since as the highest id seen minus the margin in snowflake time', () => {
    const since = resumeSince(VECTOR, 10_000);
    assert.equal(since, (BigInt(VECTOR) - (10_000n << 22n)).toString());
    assert.equal(timestampOfId(since), VECTOR_MS - 10_000, 'exactly 10 s earlier');
    assert.equal(BigInt(since) & 0x3fffffn, BigInt(VECTOR) & 0x3fffffn, 'worker and sequence bits are kept');
    assert.equal(resumeSince(VECTOR, 0), VECTOR);
  });

  it('floors the RESUME since at 0 when the margin reaches back past the epoch', () => {
    assert.equal(resumeSince((5n << 22n).toString(), 10_000), '0');
    assert.equal(resumeSince('0', 10_000), '0');
  });
});
