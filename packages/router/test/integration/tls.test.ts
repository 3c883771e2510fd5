// amqps:// with the router's `tls` options against a private RabbitMQ node listening for TLS with
// certificates made by the openssl CLI (testkit's makeTestCertificates): a CA, a server certificate for
// "localhost" only (no IP address), and a client certificate whose key is encrypted. The node verifies
// peers and refuses clients without a certificate, so a working connection shows every option reached
// tls.connect.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type DurableDelivery, InvalidArgumentError, type Logger, type RouterTlsOptions } from '@chat/router';
import {
  freePort,
  makeTestCertificates,
  type RabbitNode,
  startRabbitNode,
  type TestCertificates,
  useAmqpLeakCheck,
} from '@chat/testkit';
import { createWrite, routerFixture, waitFor } from './fixture.js';

useAmqpLeakCheck();

/** A logger that keeps the warnings (connect failures are logged, then retried). */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const none = () => {};
  return {
    warnings,
    trace: none,
    debug: none,
    info: none,
    error: none,
    fatal: none,
    warn: (obj: unknown, msg?: string) => {
      warnings.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
    },
  } as unknown as Logger & { warnings: string[] };
}

describe('amqps:// with tls options', () => {
  let certs: TestCertificates;
  let node: RabbitNode;
  let tlsUrl: string;
  let tls: RouterTlsOptions;

  before(async () => {
    certs = makeTestCertificates();
    const port = await freePort();
    node = await startRabbitNode({ extraConfig: certs.rabbitConfig(port) });
    // By address: the certificate names only localhost, so servername must say which name to check.
    tlsUrl = `amqps://guest:guest@127.0.0.1:${port}`;
    tls = {
      ca: readFileSync(certs.caFile),
      cert: readFileSync(certs.clientCertFile),
      key: readFileSync(certs.clientKeyFile, 'utf8'),
      passphrase: certs.clientKeyPassphrase,
      servername: certs.serverName,
    };
  });
  after(async () => {
    await node?.stop();
    certs?.remove();
  });

  it('connects with ca, client cert and encrypted key, and servername; a durable write goes round over TLS', async () => {
    const fx = routerFixture({ url: tlsUrl, label: 'tls' });
    try {
      const router = fx.make({ tls });
      await router.ready();
      assert.equal(router.options.tls, true);
      assert.ok(!JSON.stringify(router.options).includes('PRIVATE KEY'), 'options do not show key material');
      const got: DurableDelivery[] = [];
      await router.consumeDurable((d) => {
        got.push(d);
        d.ack();
      });
      await router.durableWrite(createWrite(1));
      await waitFor(() => got.length === 1, 'the write to come back');
      assert.equal(got[0]!.envelope.id, createWrite(1).id);
      const connections = await node.rabbitmqctl(0, 'list_connections', 'name', 'ssl', 'peer_cert_subject', '--quiet');
      assert.match(connections, /\ttrue\t.*chat client/, connections);
    } finally {
      await fx.cleanup(node.url);
    }
  });

  for (const [what, change, error] of [
    ['without the CA it does not trust the broker', { ca: undefined }, /self-signed certificate/],
    [
      'without servername the address does not match the certificate',
      { servername: undefined },
      /does not match certificate's altnames/,
    ],
    [
      'without a client certificate the broker refuses it',
      { cert: undefined, key: undefined, passphrase: undefined },
      /certificate required/,
    ],
  ] as const) {
    it(`${what}: connect attempts fail and are logged`, async () => {
      const logger = recordingLogger();
      const fx = routerFixture({ url: tlsUrl, label: 'tlsno' });
      try {
        const options: RouterTlsOptions = { ...tls, ...change };
        for (const k of Object.keys(options) as Array<keyof RouterTlsOptions>)
          if (options[k] === undefined) delete options[k];
        const router = fx.make({ tls: options, logger, reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 200 });
        await waitFor(() => logger.warnings.some((w) => w.includes('amqp connect attempt failed')), 'a failed attempt');
        const failure = logger.warnings.find((w) => w.includes('amqp connect attempt failed'))!;
        assert.match(failure, error);
        assert.equal(router.isReady, false);
      } finally {
        await fx.cleanup(node.url);
      }
    });
  }

  it('refuses tls options that cannot work', () => {
    const fx = routerFixture({ url: tlsUrl, label: 'tlsbad' });
    assert.throws(() => fx.make({ url: 'amqp://guest:guest@127.0.0.1:5672', tls }), /need amqps:\/\/ URLs/);
    assert.throws(() => fx.make({ tls: { ...tls, key: undefined } }), InvalidArgumentError);
    assert.throws(() => fx.make({ tls: { ...tls, servername: '' } }), /servername must be a non-empty string/);
    assert.throws(() => fx.make({ tls: { ...tls, ca: [] } }), /tls\.ca/);
    assert.throws(
      () => fx.make({ tls: { ...tls, rejectUnauthorized: false } as RouterTlsOptions }),
      /unknown option rejectUnauthorized/,
    );
  });
});
