import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { dispatchFrame, httpBodies, parseClientFrame as parseFrame, requestParams } from '@chat/protocol';
import { dedupeKey } from '../../src/dedupe-key.js';
import { API_ERRORS, type ApiError } from '../../src/errors.js';
import { TokenBucket } from '../../src/guards.js';
import { checkContent, checkShape } from '../../src/validation.js';

describe('gateway units', () => {
  it('README.md lists exactly the API error codes, with their HTTP statuses', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split(/^## Errors$/m)[1]?.split(/^## /m)[0] ?? '';
    const docs = new Map<string, number>();
    for (const m of section.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) docs.set(m[1]!, Number(m[2]));
    assert.deepEqual(Object.fromEntries(docs), { ...API_ERRORS });
  });

  it('a token bucket allows the burst, then refills at the configured rate', () => {
    const bucket = new TokenBucket(3, 60, 60_000, 0);
    assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)], [true, true, true, false]);
    assert.equal(bucket.take(999), false, 'one token per second: not yet');
    assert.equal(bucket.take(1000), true);
    assert.ok(bucket.retryAfterMs() > 0);
  });

  it('frames parse strictly and a DISPATCH frame is valid JSON with the sequence', () => {
    assert.deepEqual(parseFrame('{"op":1,"d":null}'), { op: 1, d: null });
    assert.ok('error' in parseFrame('{"op":"1"}'));
    assert.ok('error' in parseFrame('[]'));
    assert.ok('error' in parseFrame('{'));
    assert.deepEqual(JSON.parse(dispatchFrame('MESSAGE_CREATE', 7, '{"id":"1"}')), {
      op: 0,
      t: 'MESSAGE_CREATE',
      s: 7,
      d: { id: '1' },
    });
  });

  it('replayed and live deliveries of the same change share a de-duplication key; different changes do not', () => {
    const m = { id: '5', edited_timestamp: null };
    assert.equal(dedupeKey('MESSAGE_CREATE', m), dedupeKey('MESSAGE_CREATE', { ...m }));
    assert.notEqual(
      dedupeKey('MESSAGE_UPDATE', { id: '5', edited_timestamp: 'a' }),
      dedupeKey('MESSAGE_UPDATE', { id: '5', edited_timestamp: 'b' }),
    );
    assert.equal(dedupeKey('TYPING_START', { id: '5' }), undefined);
  });

  it('validation rejects unknown fields and wrong types, and counts content in code points after trimming', () => {
    assert.throws(
      () => checkShape({ content: 'x', a: 1 }, httpBodies.sendMessage),
      (e: ApiError) => e.code === 'unknown_field' && e.message === 'unknown field "a" in body',
    );
    assert.throws(
      () => checkShape({ a: 1 }, httpBodies.sendMessage),
      (e: ApiError) => e.code === 'unknown_field',
      'an unknown field is named before a missing one',
    );
    assert.throws(
      () => checkShape({ content: 1 }, httpBodies.sendMessage),
      (e: ApiError) => e.code === 'invalid_request' && e.message === '"content" must be a string',
    );
    assert.throws(
      () => checkShape({}, httpBodies.sendMessage),
      (e: ApiError) => e.code === 'invalid_request' && e.message === '"content" is required',
    );
    assert.throws(
      () => checkShape({ channel_id: '01', content: 'x' }, requestParams['message.create'], 'params'),
      (e: ApiError) => e.code === 'invalid_request' && e.message === '"channel_id" must be an id (decimal string)',
    );
    assert.throws(
      () => checkShape({ channel_id: '1', limit: 1.5 }, requestParams['history.get'], 'params'),
      (e: ApiError) => e.code === 'invalid_request' && e.message === '"limit" must be a int',
    );
    assert.deepEqual(checkShape({ content: 'x', nonce: null }, httpBodies.sendMessage), { content: 'x', nonce: null });
    assert.equal(checkContent('  hi  ', 10), 'hi');
    assert.equal(checkContent('😀'.repeat(10), 10), '😀'.repeat(10));
    assert.throws(
      () => checkContent('😀'.repeat(11), 10),
      (e: ApiError) => e.code === 'payload_too_large',
    );
    assert.throws(
      () => checkContent('   ', 10),
      (e: ApiError) => e.code === 'invalid_request',
    );
  });
});
