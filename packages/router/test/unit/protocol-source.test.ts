import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

describe('one source for the protocol arithmetic', () => {
  it('@chat/router re-exports the hashing and snowflake functions of @chat/protocol (no copy)', async () => {
    const protocol = await import('@chat/protocol');
    const router = await import('@chat/router');
    for (const name of [
      'fnv1a32',
      'slotOf',
      'partitionOf',
      'bucketOf',
      'BUCKET_MS',
      'makeSnowflake',
      'parseSnowflake',
      'CHAT_EPOCH_MS',
      'isSnowflake',
      'DISPATCH_EVENTS',
    ] as const) {
      assert.equal(router[name], protocol[name], `@chat/router ${name}`);
    }
  });
});
