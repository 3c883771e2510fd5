import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient, InvalidArgumentError } from '../../src/index.js';
import { parseRetryAfter } from '../../src/internal/http-api.js';
import { createNonce } from '../../src/internal/nonce.js';

describe('createClient options', () => {
  it('fills in the documented defaults and freezes the result', () => {
    const c = createClient({ baseUrl: 'http://127.0.0.1:8080/' });
    assert.deepEqual(
      { ...c.options, reconnect: { ...c.options.reconnect }, overloadRetry: { ...c.options.overloadRetry } },
      {
        baseUrl: 'http://127.0.0.1:8080',
        WebSocket: undefined,
        requestTimeoutMs: 10_000,
        connectTimeoutMs: 10_000,
        reconnect: { initialDelayMs: 250, maxDelayMs: 10_000, jitter: 0.2, maxAttempts: Number.POSITIVE_INFINITY },
        overloadRetry: { maxRetries: 4, initialDelayMs: 250, maxDelayMs: 5_000 },
        resumeMarginMs: 10_000,
        dedupCapacity: 10_000,
        slots: 1024,
      },
    );
    assert.ok(Object.isFrozen(c.options) && Object.isFrozen(c.options.reconnect));
    assert.equal(c.state, 'closed');
    assert.equal(c.lastSeenId, null);
    assert.equal(c.sequence, null);
  });

  it('rejects invalid options with InvalidArgumentError naming the option', () => {
    const cases: Array<[object, RegExp]> = [
      [{ baseUrl: 'ws://h' }, /baseUrl/],
      [{ baseUrl: 'not a url' }, /baseUrl/],
      [{ baseUrl: 'http://h', requestTimeoutMs: 0 }, /requestTimeoutMs/],
      [{ baseUrl: 'http://h', reconnect: { jitter: 2 } }, /jitter/],
      [{ baseUrl: 'http://h', reconnect: { initialDelayMs: 100, maxDelayMs: 10 } }, /maxDelayMs/],
      [{ baseUrl: 'http://h', resumeMarginMs: -1 }, /resumeMarginMs/],
      [{ baseUrl: 'http://h', overloadRetry: { maxRetries: -1 } }, /overloadRetry\.maxRetries/],
      [{ baseUrl: 'http://h', WebSocket: 'ws' }, /WebSocket/],
      [{ baseUrl: 'http://h', reconnect: { maxAttempts: 0 } }, /reconnect\.maxAttempts/],
      [{ baseUrl: 'http://h', reconnect: { maxAttempts: 1.5 } }, /reconnect\.maxAttempts/],
      [{ baseUrl: 'http://h', getToken: 'secret' }, /getToken/],
    ];
    for (const [o, re] of cases)
      assert.throws(
        () => createClient(o as never),
        (err: unknown) => err instanceof InvalidArgumentError && re.test(err.message),
      );
  });
});

describe('small helpers', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('7'), 7);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
  });

  it('makes nonces of 32 hex characters that do not repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const n = createNonce();
      assert.match(n, /^[0-9a-f]{32}$/);
      seen.add(n);
    }
    assert.equal(seen.size, 1000);
  });
});
