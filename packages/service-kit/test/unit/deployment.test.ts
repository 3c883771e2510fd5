import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { amqpTls, amqpUrls } from '../../src/amqp.js';
import { deploymentSettings } from '../../src/deployment.js';
import { ConfigError } from '../../src/env.js';

describe('variables every service reads', () => {
  it('the deployment: defaults, and each refusal names its variable', () => {
    assert.deepEqual(deploymentSettings({}), {
      prefix: 'chat',
      partitions: 16,
      slots: 1024,
      granularity: 'slot',
      broadcastAboveKeys: 'auto',
      mongoDb: 'chat',
      logLevel: 'info',
    });
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ CHAT_GRANULARITY: 'room' }, /^CHAT_GRANULARITY must be slot or user$/],
      [{ CHAT_PARTITIONS: '0' }, /^CHAT_PARTITIONS must be an integer/],
      [{ CHAT_SLOTS: '1000' }, /^CHAT_SLOTS must be a multiple of CHAT_PARTITIONS$/],
      [{ CHAT_PREFIX: 'a..b' }, /^CHAT_PREFIX has invalid characters$/],
      [{ MONGO_DB: 'a/b' }, /^MONGO_DB has invalid characters$/],
      [{ BROADCAST_ABOVE_KEYS: 'always' }, /^BROADCAST_ABOVE_KEYS must be an integer in 1\.\./],
      [{ BROADCAST_ABOVE_KEYS: '0' }, /^BROADCAST_ABOVE_KEYS must be an integer in 1\.\./],
      [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be fatal, error, warn, info, debug, trace or silent$/],
    ];
    assert.equal(deploymentSettings({ BROADCAST_ABOVE_KEYS: 'off' }).broadcastAboveKeys, 'off');
    assert.equal(deploymentSettings({ BROADCAST_ABOVE_KEYS: '8' }).broadcastAboveKeys, 8);
    for (const [env, message] of cases) {
      assert.throws(
        () => deploymentSettings(env),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
        JSON.stringify(env),
      );
    }
  });

  it('AMQP_URL: one URL per node, amqp:// or amqps:// only', () => {
    assert.deepEqual(amqpUrls({}), ['amqp://guest:guest@127.0.0.1:5672']);
    assert.deepEqual(amqpUrls({ AMQP_URL: 'amqp://a:5672, amqps://b:5671' }), ['amqp://a:5672', 'amqps://b:5671']);
    assert.throws(
      () => amqpUrls({ AMQP_URL: 'amqp://a,http://b' }),
      /^Error: AMQP_URL must use amqp: or amqps:$|AMQP_URL must use/,
    );
  });

  it('the AMQP TLS block: none when unset; files read for amqps://; errors name the variable', () => {
    assert.equal(amqpTls({}, ['amqp://h']), undefined);
    const dir = mkdtempSync(join(tmpdir(), 'kit-tls-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), 'ca pem');
      const tls = amqpTls({ AMQP_CA_FILE: join(dir, 'ca.pem'), AMQP_SERVERNAME: 'rabbit' }, ['amqps://h']);
      assert.equal(String(tls?.ca), 'ca pem');
      assert.equal(tls?.servername, 'rabbit');
      const refused = (pattern: RegExp) => (e: unknown) => e instanceof ConfigError && pattern.test(e.message);
      assert.throws(
        () => amqpTls({ AMQP_CA_FILE: join(dir, 'ca.pem') }, ['amqp://h']),
        refused(/^AMQP_CA_FILE: .*amqps:\/\//),
      );
      assert.throws(
        () => amqpTls({ AMQP_KEY_FILE: join(dir, 'none.pem') }, ['amqps://h']),
        refused(/^AMQP_KEY_FILE: cannot read/),
      );
      assert.throws(
        () => amqpTls({ AMQP_CERT_FILE: join(dir, 'ca.pem') }, ['amqps://h']),
        refused(/AMQP_CERT_FILE and AMQP_KEY_FILE go together/),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
