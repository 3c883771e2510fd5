import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkContent,
  codePoints,
  decimalUpTo,
  dispatchEnvelope,
  durableWriteHeader,
  durableWrites,
  httpBodies,
  isSnowflake,
  requestParams,
  SNOWFLAKE_PATTERN,
} from '@chat/protocol';

describe('snowflake ids: one pattern, decimal, no leading zeros, below 2^63', () => {
  const accepted = ['0', '1', '10', '264905529753620487', '999999999999999999', '9223372036854775807'];
  const refused = [
    '',
    '00',
    '01',
    '0123',
    '-1',
    '+1',
    ' 1',
    '1 ',
    '1.0',
    '1e3',
    '9223372036854775808',
    '9999999999999999999',
    '18446744073709551615',
    '10000000000000000000',
    '１',
  ];
  for (const id of accepted) it(`accepts ${JSON.stringify(id)}`, () => assert.equal(isSnowflake(id), true));
  for (const id of refused) it(`refuses ${JSON.stringify(id)}`, () => assert.equal(isSnowflake(id), false));
  it('refuses non-strings', () => {
    for (const v of [1, 1n, null, undefined, {}, ['1']]) assert.equal(isSnowflake(v), false);
  });
  it('the generated validators use the same pattern', () => {
    const v = requestParams['typing.start'];
    for (const id of accepted) assert.equal(v.is({ channel_id: id }), true, id);
    for (const id of refused) assert.equal(v.is({ channel_id: id }), false, id);
  });
  it('decimalUpTo(max) accepts exactly 0..max (checked around every digit boundary)', () => {
    for (const max of [0n, 7n, 10n, 99n, 100n, 305n, 1000n, 9223372036854775807n]) {
      const re = new RegExp(decimalUpTo(max));
      for (const n of [0n, 1n, 9n, 10n, 11n, 99n, 100n, 101n, max - 1n, max, max + 1n, max * 10n]) {
        if (n < 0n) continue;
        assert.equal(re.test(n.toString()), n <= max, `${n} vs max ${max}`);
      }
    }
    assert.equal(SNOWFLAKE_PATTERN, decimalUpTo((1n << 63n) - 1n));
  });
});

describe('the code-point counter and content rule', () => {
  it('counts a surrogate pair once, a lone surrogate once, combining marks separately', () => {
    assert.equal(codePoints(''), 0);
    assert.equal(codePoints('abc'), 3);
    assert.equal(codePoints('😀'), 1);
    assert.equal('😀'.length, 2);
    assert.equal(codePoints('😀😀x'), 3);
    assert.equal(codePoints('\ud83d'), 1);
    assert.equal(codePoints('e\u0301'), 2);
  });
  it('trims, then accepts 1..max code points', () => {
    assert.deepEqual(checkContent('  hi  ', 10), { content: 'hi' });
    assert.deepEqual(checkContent('😀'.repeat(10), 10), { content: '😀'.repeat(10) });
    assert.deepEqual(checkContent('😀'.repeat(11), 10), { problem: 'too_long' });
    assert.deepEqual(checkContent(' \n\t ', 10), { problem: 'empty' });
  });
});

describe('request params: exact shapes', () => {
  const create = requestParams['message.create'];
  const table: Array<[unknown, ReturnType<typeof create.failure>]> = [
    [{ channel_id: '1', content: 'x' }, undefined],
    [{ channel_id: '1', content: 'x', nonce: 'n' }, undefined],
    [{ channel_id: '1', content: 'x', nonce: null }, undefined],
    [{ channel_id: '1' }, { kind: 'missing', field: 'content' }],
    [
      { channel_id: '01', content: 'x' },
      { kind: 'invalid', field: 'channel_id' },
    ],
    [
      { channel_id: 1, content: 'x' },
      { kind: 'invalid', field: 'channel_id' },
    ],
    [
      { channel_id: '1', content: 5 },
      { kind: 'invalid', field: 'content' },
    ],
    [
      { channel_id: '1', content: 'x', nonce: 5 },
      { kind: 'invalid', field: 'nonce' },
    ],
    [
      { channel_id: '1', content: 'x', extra: 1 },
      { kind: 'unknown_field', field: 'extra' },
    ],
    [{ extra: 1 }, { kind: 'unknown_field', field: 'extra' }],
    [null, { kind: 'not_an_object', field: '' }],
    [[], { kind: 'not_an_object', field: '' }],
    ['x', { kind: 'not_an_object', field: '' }],
  ];
  for (const [value, failure] of table) {
    it(`${JSON.stringify(value)} → ${failure ? `${failure.kind} ${failure.field}` : 'ok'}`, () => {
      assert.deepEqual(create.failure(value), failure);
      assert.equal(create.is(value), failure === undefined);
    });
  }
  it('prototype keys are unknown fields; inherited values do not count', () => {
    for (const field of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const body = JSON.parse(`{"username":"u","password":"p","${field}":"x"}`);
      assert.deepEqual(httpBodies.credentials.failure(body), { kind: 'unknown_field', field }, field);
    }
    const inherits = Object.create({ username: 'u', password: 'p' });
    assert.deepEqual(httpBodies.credentials.failure(inherits), { kind: 'missing', field: 'username' });
  });
  it('history.get: limit is an integer, before/after are ids or null', () => {
    const h = requestParams['history.get'];
    assert.equal(h.is({ channel_id: '1', before: '2', after: null, limit: 50 }), true);
    assert.deepEqual(h.failure({ channel_id: '1', limit: 1.5 }), { kind: 'invalid', field: 'limit' });
    assert.deepEqual(h.failure({ channel_id: '1', limit: '5' }), { kind: 'invalid', field: 'limit' });
    assert.deepEqual(h.failure({ channel_id: '1', before: '-1' }), { kind: 'invalid', field: 'before' });
  });
});

describe('envelopes', () => {
  const create = {
    v: 1,
    type: 'message.create',
    id: '264905529753620487',
    channel_id: '264905529753620400',
    author: { id: 'u', username: 'n' },
    content: 'hi',
    timestamp: '2026-01-01T00:00:00.000Z',
  };
  it('a dispatch goes to a channel or a list of users', () => {
    assert.equal(
      dispatchEnvelope.is({ v: 1, type: 'dispatch', event: 'TYPING_START', channel_id: 'c', data: {} }),
      true,
    );
    assert.equal(dispatchEnvelope.is({ v: 1, type: 'dispatch', event: 'TYPING_START', to: ['a'], data: null }), true);
    assert.deepEqual(dispatchEnvelope.failure({ v: 1, type: 'dispatch', event: 'TYPING_START', data: {} }), {
      kind: 'no_match',
      field: '',
    });
  });
  it('the durable write header names a bad type before a missing message_id', () => {
    assert.equal(durableWriteHeader.is(create), true);
    assert.deepEqual(durableWriteHeader.failure({ ...create, type: 'x' }), { kind: 'invalid', field: 'type' });
    assert.deepEqual(durableWriteHeader.failure({ ...create, type: 'message.delete' }), {
      kind: 'missing',
      field: 'message_id',
    });
    assert.deepEqual(durableWriteHeader.failure({ ...create, id: '9223372036854775808' }), {
      kind: 'invalid',
      field: 'id',
    });
  });
  it('a whole create write: short author fields, a nonce of 1..64 UTF-16 units or null', () => {
    const v = durableWrites['message.create'];
    assert.equal(v.is(create), true);
    assert.equal(v.is({ ...create, nonce: null }), true);
    assert.equal(v.is({ ...create, nonce: 'x'.repeat(64) }), true);
    assert.deepEqual(v.failure({ ...create, nonce: 'x'.repeat(65) }), { kind: 'invalid', field: 'nonce' });
    assert.deepEqual(v.failure({ ...create, nonce: '😀'.repeat(33) }), { kind: 'invalid', field: 'nonce' });
    assert.deepEqual(v.failure({ ...create, nonce: '' }), { kind: 'invalid', field: 'nonce' });
    assert.deepEqual(v.failure({ ...create, author: { id: '', username: 'n' } }), { kind: 'invalid', field: 'author' });
    assert.deepEqual(v.failure({ ...create, author: undefined }), { kind: 'missing', field: 'author' });
  });
});
