import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createTokenService } from '../../src/auth.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
/** A compact JWS signed with HMAC-SHA256 over whatever header and payload it is given. */
function forge(header: unknown, payload: unknown, secret = SECRET): string {
  const signingInput = `${b64(header)}.${b64(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
const good = () => ({ iss: 'chat-gateway', sub: 'u1', name: 'ann', ver: 3, iat: now(), exp: now() + 60 });

describe('session tokens', () => {
  const tokens = createTokenService(SECRET, 3600);

  it('verifies what it signs (jose) and what any HS256 signer with the secret signs', async () => {
    const signed = await tokens.sign({ userId: 'u1', username: 'ann', version: 2 });
    assert.deepEqual(await tokens.verify(signed), { userId: 'u1', username: 'ann', version: 2 });
    assert.deepEqual(await tokens.verify(forge({ alg: 'HS256', typ: 'JWT' }, good())), {
      userId: 'u1',
      username: 'ann',
      version: 3,
    });
    const { ver: _, ...noVersion } = good();
    assert.equal((await tokens.verify(forge({ alg: 'HS256' }, noVersion)))?.version, 0, 'no ver: 0');
    // A token jose signs with other claims set still verifies (interoperable both ways).
    const key = new TextEncoder().encode(SECRET);
    const other = await new SignJWT({ name: 'bo' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u2')
      .setIssuer('chat-gateway')
      .setExpirationTime('1m')
      .setNotBefore('0s')
      .sign(key);
    assert.deepEqual(await tokens.verify(other), { userId: 'u2', username: 'bo', version: 0 });
  });

  it('refuses a forged, altered or foreign signature', async () => {
    const signed = await tokens.sign({ userId: 'u1', username: 'ann', version: 2 });
    const [h, p, s] = signed.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    assert.equal(await tokens.verify(`${h}.${b64({ ...payload, sub: 'admin' })}.${s}`), null, 'payload altered');
    assert.equal(
      await tokens.verify(`${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`),
      null,
      'signature altered',
    );
    assert.equal(await tokens.verify(`${h}.${p}.`), null, 'no signature');
    assert.equal(await tokens.verify(forge({ alg: 'HS256' }, good(), 'another-secret')), null, 'another secret');
    assert.equal(await tokens.verify(`${b64({ alg: 'none' })}.${b64(good())}.`), null, 'alg none');
  });

  it('refuses a correct HMAC under a header that is not exactly HS256', async () => {
    assert.equal(await tokens.verify(forge({ alg: 'HS512' }, good())), null);
    assert.equal(await tokens.verify(forge({ alg: 'none' }, good())), null);
    assert.equal(await tokens.verify(forge({ typ: 'JWT' }, good())), null, 'no alg');
    assert.equal(await tokens.verify(forge({ alg: 'HS256', crit: ['exp'], exp: 1 }, good())), null, 'crit');
    assert.equal(await tokens.verify(forge({ alg: 'HS256', b64: false }, good())), null, 'b64');
    assert.equal(await tokens.verify(forge('not json', good())), null, 'header not JSON');
  });

  it('refuses expired, not yet valid, foreign and incomplete claims', async () => {
    const sign = (over: Record<string, unknown>) => forge({ alg: 'HS256' }, { ...good(), ...over });
    assert.equal(await tokens.verify(sign({ exp: now() - 1 })), null, 'expired');
    assert.equal(await tokens.verify(sign({ exp: now() })), null, 'expires now');
    assert.equal(await tokens.verify(sign({ exp: undefined })), null, 'no exp');
    assert.equal(await tokens.verify(sign({ exp: '9999999999' })), null, 'exp not a number');
    assert.equal(await tokens.verify(sign({ nbf: now() + 60 })), null, 'not yet valid');
    assert.equal(await tokens.verify(sign({ iat: 'yesterday' })), null, 'iat not a number');
    assert.equal(await tokens.verify(sign({ iss: 'someone-else' })), null, 'issuer');
    assert.equal(await tokens.verify(sign({ sub: 7 })), null, 'sub not a string');
    assert.equal(await tokens.verify(sign({ name: undefined })), null, 'no name');
    assert.equal(await tokens.verify(sign({ ver: 1.5 })), null, 'ver not an integer');
    assert.equal(await tokens.verify(forge({ alg: 'HS256' }, [1, 2])), null, 'payload not an object');
  });

  it('refuses what is not a compact token at all', async () => {
    for (const t of [undefined, 42, '', 'a.b', 'a.b.c.d', '..', 'a!.b.c', 'x'.repeat(4097)]) {
      assert.equal(await tokens.verify(t), null, String(t).slice(0, 20));
    }
  });
});
