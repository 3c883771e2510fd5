import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readResponse as parseResponse } from '@chat/protocol';
import { ChatApiError, ChatRequestError } from '../../src/index.js';
import { overloadDelay, overloadHintMs, retryOverloaded } from '../../src/internal/overload-retry.js';

const opts = { maxRetries: 3, initialDelayMs: 100, maxDelayMs: 1000 };

describe('overload retry', () => {
  it('reads the hint from a RESPONSE error (retry_after_ms) and from an HTTP Retry-After', () => {
    assert.equal(overloadHintMs(new ChatRequestError('message.create', 'overloaded', 'busy', 250)), 250);
    assert.equal(overloadHintMs(new ChatApiError(503, 'overloaded', 'busy', 2)), 2000);
    assert.equal(overloadHintMs(new ChatRequestError('message.create', 'overloaded', 'busy')), 0);
    assert.equal(overloadHintMs(new ChatApiError(503, 'unavailable', 'down', 2)), null, 'unavailable may be stored');
    assert.equal(overloadHintMs(new ChatApiError(503, 'unavailable', 'down', 2), true), 2000, 'deduplicated by nonce');
    assert.equal(overloadHintMs(new ChatRequestError('message.create', 'unavailable', 'down', 300), true), 300);
    assert.equal(overloadHintMs(new ChatRequestError('message.create', 'not_a_member', 'no'), true), null);
    assert.equal(overloadHintMs(new ChatRequestError('message.create', 'not_a_member', 'no')), null);
    const r = parseResponse({ id: 'r1', ok: false, error: { code: 'overloaded', message: 'm', retry_after_ms: 300 } });
    assert.deepEqual(r, { id: 'r1', ok: false, error: { code: 'overloaded', message: 'm', retryAfterMs: 300 } });
    assert.equal(new ChatRequestError('m', 'overloaded', 'x').retryable, true);
  });

  it('waits at least the hint, grows without one, and adds up to 50 % jitter on top', () => {
    assert.equal(
      overloadDelay(0, 0, opts, () => 0),
      100,
    );
    assert.equal(
      overloadDelay(2, 0, opts, () => 0),
      400,
    );
    assert.equal(
      overloadDelay(9, 0, opts, () => 0),
      1000,
    );
    assert.equal(
      overloadDelay(0, 700, opts, () => 0),
      700,
      'the hint is a floor',
    );
    assert.equal(
      overloadDelay(0, 5000, opts, () => 0),
      5000,
      'a hint above the cap still wins',
    );
    assert.equal(
      overloadDelay(0, 700, opts, () => 0.999_999),
      1050,
    );
    for (let i = 0; i < 200; i++) {
      const d = overloadDelay(1, 300, opts);
      assert.ok(d >= 300 && d <= 450, String(d));
    }
  });

  it('repeats the same attempt on overloaded only, at most maxRetries times, within the deadline', async () => {
    const busy = () => new ChatRequestError('message.create', 'overloaded', 'busy', 1);
    let calls = 0;
    const fast = { maxRetries: 3, initialDelayMs: 1, maxDelayMs: 2 };
    const value = await retryOverloaded(
      async () => {
        if (++calls < 3) throw busy();
        return 'stored';
      },
      fast,
      Date.now() + 10_000,
    );
    assert.equal(value, 'stored');
    assert.equal(calls, 3);

    calls = 0;
    await assert.rejects(
      retryOverloaded(
        async () => {
          calls++;
          throw busy();
        },
        fast,
        Date.now() + 10_000,
      ),
      /busy/,
    );
    assert.equal(calls, 4, 'one try and three retries');

    calls = 0;
    await assert.rejects(
      retryOverloaded(
        async () => {
          calls++;
          throw new ChatRequestError('message.create', 'unavailable', 'maybe stored');
        },
        fast,
        Date.now() + 10_000,
      ),
      /maybe stored/,
    );
    assert.equal(calls, 1, 'never retried: it may have been stored');

    calls = 0;
    const stored = await retryOverloaded(
      async () => {
        if (++calls < 3) throw new ChatRequestError('message.create', 'unavailable', 'redis down', 1);
        return 'stored once';
      },
      fast,
      Date.now() + 10_000,
      undefined,
      undefined,
      true,
    );
    assert.equal(stored, 'stored once', 'retried when the server deduplicates it by nonce');
    assert.equal(calls, 3);

    calls = 0;
    await assert.rejects(
      retryOverloaded(
        async () => {
          calls++;
          throw new ChatRequestError('message.create', 'overloaded', 'busy', 60_000);
        },
        fast,
        Date.now() + 1000,
      ),
    );
    assert.equal(calls, 1, 'a wait past the deadline is not taken');
  });
});
