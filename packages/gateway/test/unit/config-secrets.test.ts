import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = { JWT_SECRET: 'a'.repeat(40) };

describe('gateway configuration: secrets and topology', () => {
  it('refuses example values (anything containing "change-me") in the JWT secret and the service URLs', () => {
    for (const [name, value] of [
      ['JWT_SECRET', 'change-me-to-the-output-of-openssl-rand-hex-32'],
      ['JWT_SECRET', 'dev-only-jwt-secret-change-me-0123456789abcdef'],
      ['AMQP_URL', 'amqp://chat-gateway:change-me@rabbitmq-1:5672'],
      ['MONGO_URL', 'mongodb://chat:CHANGE_ME@mongo:27017'],
      ['REDIS_URL', 'redis://:changeme@redis:6379'],
    ] as const) {
      assert.throws(
        () => loadConfig({ ...base, [name]: value }),
        (err: unknown) => err instanceof ConfigError && err.message.startsWith(`${name} still holds an example value`),
        `${name}=${value}`,
      );
    }
    assert.equal(loadConfig(base).jwtSecret, base.JWT_SECRET);
  });

  it('declares the shared topology unless DECLARE_TOPOLOGY is false', () => {
    assert.equal(loadConfig(base).declareTopology, true);
    assert.equal(loadConfig({ ...base, DECLARE_TOPOLOGY: 'false' }).declareTopology, false);
    assert.throws(() => loadConfig({ ...base, DECLARE_TOPOLOGY: 'maybe' }), /DECLARE_TOPOLOGY must be true or false/);
  });
});
