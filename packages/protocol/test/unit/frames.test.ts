import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  frame as encodeFrame,
  Op,
  parseServerFrame as parseFrame,
  readResponse as parseResponse,
} from '@chat/protocol';

describe('frames', () => {
  it('parses a DISPATCH with its event name and sequence', () => {
    assert.deepEqual(parseFrame('{"op":0,"t":"MESSAGE_CREATE","s":3,"d":{"id":"1"}}'), {
      op: 0,
      t: 'MESSAGE_CREATE',
      s: 3,
      d: { id: '1' },
    });
    assert.deepEqual(parseFrame('{"op":11,"d":null}'), { op: 11, d: null });
    assert.deepEqual(parseFrame('{"op":10,"d":{"heartbeat_interval":30000},"s":null,"t":null}'), {
      op: 10,
      d: { heartbeat_interval: 30000 },
      s: null,
      t: null,
    });
  });

  it('says why text is not a frame', () => {
    assert.deepEqual(parseFrame('{op:0'), { error: 'invalid JSON' });
    assert.deepEqual(parseFrame('[1]'), { error: 'a frame is a JSON object' });
    assert.deepEqual(parseFrame('null'), { error: 'a frame is a JSON object' });
    assert.deepEqual(parseFrame('{"op":"0"}'), { error: '"op" must be an integer' });
    assert.deepEqual(parseFrame('{"op":1.5}'), { error: '"op" must be an integer' });
    assert.deepEqual(parseFrame('{"op":0,"t":"X","s":"1"}'), { error: '"s" must be an integer or null' });
    assert.deepEqual(parseFrame('{"op":0,"t":5}'), { error: '"t" must be a string or null' });
    assert.deepEqual(parseFrame('{"op":0,"d":{}}'), { error: 'a DISPATCH needs "t"' });
  });

  it('reads RESPONSE payloads, filling in a missing error code or message', () => {
    assert.deepEqual(parseResponse({ id: 'r1', ok: true, result: [1] }), { id: 'r1', ok: true, result: [1] });
    assert.deepEqual(parseResponse({ id: 'r2', ok: false, error: { code: 'forbidden', message: 'no' } }), {
      id: 'r2',
      ok: false,
      error: { code: 'forbidden', message: 'no' },
    });
    assert.deepEqual(parseResponse({ id: 'r3', ok: false }), {
      id: 'r3',
      ok: false,
      error: { code: 'unknown', message: 'request failed' },
    });
    assert.equal(parseResponse({ ok: true }), null);
    assert.equal(parseResponse(null), null);
  });

  it('encodes the frames the client sends', () => {
    assert.equal(encodeFrame(Op.IDENTIFY, { token: 't' }), '{"op":2,"d":{"token":"t"}}');
    assert.equal(encodeFrame(Op.HEARTBEAT, null), '{"op":1,"d":null}');
  });
});
