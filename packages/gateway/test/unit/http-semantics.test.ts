import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CorsPolicy } from '../../src/cors.js';
import { bearerChallenge, unversionedPath } from '../../src/http-api.js';

const base = { JWT_SECRET: 'a'.repeat(40) };

describe('HTTP semantics: CORS origins, versioned paths, Bearer challenges', () => {
  it('CORS_ORIGINS takes exact origins only', () => {
    assert.deepEqual(loadConfig(base).corsOrigins, []);
    assert.deepEqual(
      loadConfig({ ...base, CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsOrigins,
      ['https://app.example.com', 'http://localhost:5173'],
    );
    for (const bad of [
      '*',
      'https://app.example.com/',
      'https://app.example.com/chat',
      'app.example.com',
      'ftp://x.example',
    ]) {
      assert.throws(
        () => loadConfig({ ...base, CORS_ORIGINS: bad }),
        (err: unknown) => err instanceof ConfigError && err.message.startsWith('CORS_ORIGINS'),
        bad,
      );
    }
  });

  it('CorsPolicy: headers for a configured origin only, Vary whenever CORS is on, nothing when it is off', () => {
    const cors = new CorsPolicy(['https://app.example.com']);
    assert.equal(cors.headers('https://app.example.com')['access-control-allow-origin'], 'https://app.example.com');
    assert.deepEqual(cors.headers('https://evil.example.com'), { vary: 'Origin' });
    assert.deepEqual(cors.headers(''), { vary: 'Origin' });
    assert.deepEqual(cors.preflight('https://evil.example.com', ['GET']), { vary: 'Origin' });
    const pre = cors.preflight('https://app.example.com', ['GET', 'POST']);
    assert.equal(pre['access-control-allow-methods'], 'GET, POST');
    assert.equal(pre['access-control-allow-credentials'], undefined, 'tokens are headers, not cookies');
    assert.deepEqual(new CorsPolicy([]).headers('https://app.example.com'), {});
  });

  it('/api/v1/… routes as /api/…; a 401 challenge says invalid_token only when a token was sent', () => {
    assert.equal(unversionedPath('/api/v1/users/@me'), '/api/users/@me');
    assert.equal(unversionedPath('/api/users/@me'), '/api/users/@me');
    assert.equal(unversionedPath('/api/v1'), '/api/v1');
    assert.equal(unversionedPath('/api/v2/users'), '/api/v2/users');
    assert.equal(bearerChallenge(''), 'Bearer realm="chat"');
    assert.equal(bearerChallenge('Bearer x.y.z'), 'Bearer realm="chat", error="invalid_token"');
  });
});
