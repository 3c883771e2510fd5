import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('persister configuration', () => {
  it('reads the accepted writers, defaulting to none listed (the persister then accepts its own AMQP user)', () => {
    assert.deepEqual(loadConfig({}).writers, []);
    assert.deepEqual(loadConfig({ PERSIST_WRITERS: ' chat-gateway, chat-api ,' }).writers, [
      'chat-gateway',
      'chat-api',
    ]);
  });

  it('refuses example secrets in its URLs and reads DECLARE_TOPOLOGY', () => {
    assert.throws(
      () => loadConfig({ AMQP_URL: 'amqp://chat-persister:change-me@rabbitmq-1:5672' }),
      (err: unknown) => err instanceof ConfigError && /AMQP_URL still holds an example value/.test(err.message),
    );
    assert.equal(loadConfig({}).declareTopology, true);
    assert.equal(loadConfig({ DECLARE_TOPOLOGY: 'false' }).declareTopology, false);
  });
});
