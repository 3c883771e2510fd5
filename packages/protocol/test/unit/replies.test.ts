// Replies in the protocol (docs/protocol.md §4.1): `reply_to` in the REQUEST params, the HTTP body and the
// durable write; the reference built in one place with an excerpt counted in code points; messageOf
// carrying the reference and the count only when there is one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  codePoints,
  durableWrites,
  excerptOf,
  HTTP_ROUTES,
  httpBodies,
  messageOf,
  REPLY_EXCERPT_LENGTH,
  referenceOf,
  requestParams,
} from '@chat/protocol';

const id = '264905529753620487';
const base = { id, channel_id: '1', author: { id: '2', username: 'ann' }, content: 'hi', timestamp: 't' };

describe('reply_to', () => {
  it('is an optional snowflake (or null) of message.create, the send body and the create write', () => {
    const params = requestParams['message.create'];
    assert.equal(params.is({ channel_id: '1', content: 'x', reply_to: id }), true);
    assert.equal(params.is({ channel_id: '1', content: 'x', reply_to: null }), true);
    assert.deepEqual(params.failure({ channel_id: '1', content: 'x', reply_to: '01' }), {
      kind: 'invalid',
      field: 'reply_to',
    });
    assert.deepEqual(params.failure({ channel_id: '1', content: 'x', reply_to: 5 }), {
      kind: 'invalid',
      field: 'reply_to',
    });
    assert.equal(httpBodies.sendMessage.is({ content: 'x', reply_to: id }), true);
    assert.deepEqual(httpBodies.sendMessage.failure({ content: 'x', reply_to: 'abc' }), {
      kind: 'invalid',
      field: 'reply_to',
    });
    const write = { v: 1, type: 'message.create', ...base, nonce: null, timestamp: '2026-01-01T00:00:00Z' };
    assert.equal(durableWrites['message.create'].is({ ...write, reply_to: id }), true);
    assert.equal(durableWrites['message.create'].failure({ ...write, reply_to: '1x' })?.field, 'reply_to');
  });

  it('the replies route pages a message of a channel, members only', () => {
    const route = HTTP_ROUTES.find((r) => r.name === 'replies');
    assert.equal(route?.method, 'get');
    assert.equal(route?.path, '/channels/{channel_id}/messages/{message_id}/replies');
    assert.ok(route?.errors.includes('not_a_member'));
  });
});

describe('a reply’s reference', () => {
  it('cuts the parent’s content to 100 code points, a surrogate pair counting once', () => {
    const long = '𝄞'.repeat(150);
    const cut = excerptOf(long);
    assert.equal(codePoints(cut), REPLY_EXCERPT_LENGTH);
    assert.equal(cut, '𝄞'.repeat(100), 'no pair is split');
    assert.equal(excerptOf('short'), 'short');
    assert.equal(excerptOf(`${'a'.repeat(99)}😀z`), `${'a'.repeat(99)}😀`);
  });

  it('is the parent’s author and excerpt, or only its id and deleted when there is no parent to show', () => {
    assert.deepEqual(referenceOf(id, { author: { id: '2', username: 'ann' }, content: 'hello' }), {
      id,
      author: { id: '2', username: 'ann' },
      content: 'hello',
    });
    assert.deepEqual(referenceOf(id, null), { id, deleted: true });
  });

  it('messageOf carries a reference and a reply count only when there is one', () => {
    const plain = messageOf(base);
    assert.equal('referenced_message' in plain, false);
    assert.equal('reply_count' in plain, false);
    assert.equal('reply_count' in messageOf({ ...base, reply_count: 0 }), false);
    const reply = messageOf({ ...base, referenced_message: { id, deleted: true }, reply_count: 3 });
    assert.deepEqual(reply.referenced_message, { id, deleted: true });
    assert.equal(reply.reply_count, 3);
  });
});
