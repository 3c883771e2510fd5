import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, type Router } from '@chat/router';
import type { Store } from '@chat/store';
import { Registry } from 'prom-client';
import { type PersisterOptions, resolvePersisterOptions } from '../../src/options.js';
import { silent } from './fakes.js';

function options(amqpUser: string | undefined, extra: Partial<PersisterOptions> = {}): PersisterOptions {
  const router = { options: { amqpUser } } as unknown as Router;
  return { router, store: {} as Store, registry: new Registry(), logger: silent, ...extra };
}

describe('persister options', () => {
  it('fills in the defaults and freezes the result', () => {
    const o = resolvePersisterOptions(options('chat-persister'));
    assert.deepEqual(o, {
      prefetch: 2000,
      batchSize: 500,
      batchMs: 20,
      maxBatchesInFlight: 2,
      maxContentLength: 4000,
      writers: ['chat-persister'],
      retryMinMs: 100,
      retryMaxMs: 5000,
    });
    assert.ok(Object.isFrozen(o));
    assert.ok(Object.isFrozen(o.writers));
  });

  it('accepts writes from the listed writers, else from its own AMQP user, else (no user stamped) from anyone', () => {
    assert.deepEqual(resolvePersisterOptions(options('me', { writers: ['gw', 'api'] })).writers, ['gw', 'api']);
    assert.deepEqual(resolvePersisterOptions(options('me')).writers, ['me']);
    assert.equal(resolvePersisterOptions(options(undefined)).writers, undefined);
  });

  it('refuses a bad number, naming the option', () => {
    const bad: Array<[Partial<PersisterOptions>, RegExp]> = [
      [{ batchSize: 0 }, /^batchSize must be an integer ≥ 1, got 0$/],
      [{ batchMs: -1 }, /^batchMs/],
      [{ prefetch: 1.5 }, /^prefetch/],
      [{ maxBatchesInFlight: -1 }, /^maxBatchesInFlight/],
      [{ maxContentLength: 0 }, /^maxContentLength/],
      [{ retryMinMs: 200, retryMaxMs: 100 }, /^retryMaxMs must be at least retryMinMs$/],
    ];
    for (const [extra, message] of bad) {
      assert.throws(
        () => resolvePersisterOptions(options('me', extra)),
        (e: unknown) => e instanceof InvalidArgumentError && message.test(e.message),
        JSON.stringify(extra),
      );
    }
    assert.equal(resolvePersisterOptions(options('me', { batchMs: 0, maxBatchesInFlight: 0 })).maxBatchesInFlight, 0);
  });
});
