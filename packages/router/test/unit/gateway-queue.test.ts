import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewayQueueArguments } from '@chat/router';

describe('gateway queue arguments', () => {
  it('bound the queue by count and bytes, dropping the oldest copies past either', () => {
    assert.deepEqual(gatewayQueueArguments({ expiresMs: 60_000, maxLength: 10_000, maxBytes: 1 << 26 }), {
      'x-expires': 60_000,
      'x-max-length': 10_000,
      'x-max-length-bytes': 1 << 26,
      'x-overflow': 'drop-head',
    });
    assert.deepEqual(gatewayQueueArguments({ expiresMs: 5000, maxLength: 0, maxBytes: 4096 }), {
      'x-expires': 5000,
      'x-max-length-bytes': 4096,
      'x-overflow': 'drop-head',
    });
  });

  it('leave the bound arguments out when both are 0', () => {
    assert.deepEqual(gatewayQueueArguments({ expiresMs: 60_000, maxLength: 0, maxBytes: 0 }), { 'x-expires': 60_000 });
  });
});
