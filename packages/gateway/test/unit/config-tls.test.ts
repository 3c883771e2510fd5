import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-tls-'));
const pem = (name: string) => {
  writeFileSync(join(dir, name), `-----BEGIN ${name}-----\n-----END ${name}-----\n`);
  return join(dir, name);
};
const base = { JWT_SECRET: 'a'.repeat(40), AMQP_URL: 'amqps://u:p@rabbit-1:5671,amqps://u:p@rabbit-2:5671' };

describe('gateway configuration: TLS to the broker', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the PEM files, passphrase and server name into the router tls options', () => {
    const tls = loadConfig({
      ...base,
      AMQP_CA_FILE: pem('ca'),
      AMQP_CERT_FILE: pem('cert'),
      AMQP_KEY_FILE: pem('key'),
      AMQP_KEY_PASSPHRASE: 'secret',
      AMQP_SERVERNAME: 'rabbit.internal',
    }).amqpTls;
    assert.match(String(tls?.ca), /BEGIN ca/);
    assert.match(String(tls?.cert), /BEGIN cert/);
    assert.match(String(tls?.key), /BEGIN key/);
    assert.equal(tls?.passphrase, 'secret');
    assert.equal(tls?.servername, 'rabbit.internal');
    assert.equal(loadConfig(base).amqpTls, undefined, 'none set: no TLS options');
  });

  it('names the variable when a file is missing, a key has no certificate, or AMQP_URL is not amqps://', () => {
    const refused = (env: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => loadConfig({ ...base, ...env }),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    refused({ AMQP_CA_FILE: join(dir, 'absent.pem') }, /^AMQP_CA_FILE: cannot read .*absent\.pem \(ENOENT\)/);
    refused({ AMQP_KEY_FILE: pem('key') }, /AMQP_CERT_FILE and AMQP_KEY_FILE go together/);
    refused(
      { AMQP_URL: 'amqp://u:p@rabbit-1:5672', AMQP_SERVERNAME: 'rabbit.internal' },
      /^AMQP_SERVERNAME: .*amqps:\/\//,
    );
  });
});
