import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dispatchProblem, durableWriteProblem, isSnowflake } from '@chat/router';

describe('envelope validation', () => {
  it('accepts dispatches with a channel or a list of users and rejects the rest with a reason', () => {
    assert.equal(
      dispatchProblem({ v: 1, type: 'dispatch', event: 'MESSAGE_CREATE', channel_id: 'c', data: {} }),
      undefined,
    );
    assert.equal(
      dispatchProblem({ v: 1, type: 'dispatch', event: 'CHANNEL_MEMBER_ADD', to: ['a'], data: {} }),
      undefined,
    );
    const cases: Array<[unknown, string]> = [
      [null, 'not_an_object'],
      [[], 'not_an_object'],
      [{ v: 2, type: 'dispatch', event: 'MESSAGE_CREATE', channel_id: 'c', data: {} }, 'unsupported_version'],
      [{ v: 1, type: 'message.create', event: 'MESSAGE_CREATE', channel_id: 'c', data: {} }, 'unknown_type'],
      [{ v: 1, type: 'dispatch', event: 'NOPE', channel_id: 'c', data: {} }, 'unknown_event'],
      [{ v: 1, type: 'dispatch', event: 'MESSAGE_CREATE', data: {} }, 'no_audience'],
      [{ v: 1, type: 'dispatch', event: 'MESSAGE_CREATE', channel_id: 5, data: {} }, 'invalid_channel_id'],
      [{ v: 1, type: 'dispatch', event: 'MESSAGE_CREATE', to: [1], data: {} }, 'invalid_to'],
      [{ v: 1, type: 'dispatch', event: 'MESSAGE_CREATE', channel_id: 'c' }, 'missing_data'],
    ];
    for (const [value, reason] of cases) assert.equal(dispatchProblem(value), reason, JSON.stringify(value));
  });

  it('accepts the three durable writes and names what is wrong with others', () => {
    const create = {
      v: 1,
      type: 'message.create',
      id: '264905529753620487',
      channel_id: 'c',
      author: { id: 'u', username: 'n' },
      content: 'hi',
      timestamp: '2026-01-01T00:00:00.000Z',
    };
    assert.equal(durableWriteProblem(create), undefined);
    const del = { v: 1, type: 'message.delete', id: '2', message_id: '1', channel_id: 'c', author_id: 'u' };
    assert.equal(durableWriteProblem(del), undefined);
    assert.equal(durableWriteProblem({ ...create, id: 'abc' }), 'invalid_id');
    assert.equal(durableWriteProblem({ ...create, id: '18446744073709551616' }), 'invalid_id');
    assert.equal(durableWriteProblem({ ...create, type: 'message.nope' }), 'unknown_type');
    assert.equal(durableWriteProblem({ ...create, channel_id: '' }), 'invalid_channel_id');
    assert.equal(durableWriteProblem({ ...del, message_id: 12 }), 'invalid_message_id');
  });

  it('a snowflake is a canonical decimal string below 2^63 (the one pattern of @chat/protocol)', () => {
    assert.ok(isSnowflake('0'));
    assert.ok(isSnowflake('9223372036854775807'));
    assert.ok(!isSnowflake('9223372036854775808'));
    assert.ok(!isSnowflake('18446744073709551615'));
    assert.ok(!isSnowflake('0123'));
    assert.ok(!isSnowflake('-1'));
    assert.ok(!isSnowflake(12));
  });
});
