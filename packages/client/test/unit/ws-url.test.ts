import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slotOf } from '@chat/protocol';
import { socketUrl, subjectOf } from '../../src/internal/ws-url.js';

/** An unsigned JWT-shaped token with `payload` (only its middle part is ever read). */
function jwt(payload: object): string {
  return `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
}

describe('socket URL', () => {
  it('maps http(s) to ws(s), keeps a path prefix, drops query and hash, and has no slot without a user id', () => {
    assert.equal(socketUrl('http://127.0.0.1:8080', undefined, 1024), 'ws://127.0.0.1:8080/ws');
    assert.equal(socketUrl('https://chat.example/prefix/?x=1#h', undefined, 1024), 'wss://chat.example/prefix/ws');
  });

  it('adds ?slot=slotOf(userId, S) when the user id is known', () => {
    assert.equal(socketUrl('http://h', '1001', 1024), `ws://h/ws?slot=${slotOf('1001', 1024)}`);
    assert.equal(socketUrl('http://h', '1001', 8), `ws://h/ws?slot=${slotOf('1001', 8)}`);
  });

  it("reads a JWT's subject without verifying it; anything unreadable is undefined", () => {
    assert.equal(subjectOf(jwt({ sub: '264905529753620487' })), '264905529753620487');
    assert.equal(subjectOf(jwt({ sub: 42 })), undefined);
    assert.equal(subjectOf('token-alice'), undefined);
    assert.equal(subjectOf('a.%%%.c'), undefined);
    assert.equal(subjectOf(null), undefined);
  });
});
