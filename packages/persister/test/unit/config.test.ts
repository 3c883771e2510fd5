import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('PERSISTER_ORDINAL_CACHE_CHANNELS: 50,000 by default, 0 turns the memory off, a negative value is refused', () => {
    assert.equal(loadConfig({}).ordinalCacheChannels, 50_000);
    assert.equal(loadConfig({ PERSISTER_ORDINAL_CACHE_CHANNELS: '0' }).ordinalCacheChannels, 0);
    assert.throws(() => loadConfig({ PERSISTER_ORDINAL_CACHE_CHANNELS: '-1' }), /PERSISTER_ORDINAL_CACHE_CHANNELS/);
  });

  it('V8_SEMI_SPACE_GROWTH: 16 by default (regrow the young generation in one step), 1 to 16 accepted', () => {
    assert.equal(loadConfig({}).semiSpaceGrowth, 16);
    assert.equal(loadConfig({ V8_SEMI_SPACE_GROWTH: '2' }).semiSpaceGrowth, 2);
    assert.throws(() => loadConfig({ V8_SEMI_SPACE_GROWTH: '0' }), /V8_SEMI_SPACE_GROWTH/);
    assert.throws(() => loadConfig({ V8_SEMI_SPACE_GROWTH: '17' }), /V8_SEMI_SPACE_GROWTH/);
  });

  it('reads TLS options for amqps:// brokers from AMQP_CA_FILE and AMQP_SERVERNAME, and refuses them for amqp://', () => {
    const dir = mkdtempSync(join(tmpdir(), 'persister-tls-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), 'ca pem');
      const env = { AMQP_CA_FILE: join(dir, 'ca.pem'), AMQP_SERVERNAME: 'rabbit.internal' };
      const tls = loadConfig({ ...env, AMQP_URL: 'amqps://u:p@rabbit-1:5671' }).amqpTls;
      assert.equal(String(tls?.ca), 'ca pem');
      assert.equal(tls?.servername, 'rabbit.internal');
      assert.throws(
        () => loadConfig(env),
        (e: unknown) => e instanceof ConfigError && /amqps:\/\//.test(e.message),
      );
      assert.throws(
        () => loadConfig({ AMQP_URL: 'amqps://h', AMQP_CERT_FILE: join(dir, 'none.pem') }),
        /AMQP_CERT_FILE: cannot read .*none\.pem/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
