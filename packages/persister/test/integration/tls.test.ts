// The persister reaches an amqps:// broker with the TLS settings of its environment (AMQP_CA_FILE,
// AMQP_CERT_FILE, AMQP_KEY_FILE, AMQP_KEY_PASSPHRASE, AMQP_SERVERNAME): a private node that listens
// only for TLS clients with a certificate signed by the test CA (testkit's makeTestCertificates).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { topologyNames } from '@chat/router';
import {
  deleteByPrefix,
  freePort,
  type MongoHandle,
  makeTestCertificates,
  type RabbitNode,
  startMongo,
  startRabbitNode,
  type TestCertificates,
  uniquePrefix,
  useAmqpLeakCheck,
  waitFor,
} from '@chat/testkit';
import { startPersister } from './harness.js';

useAmqpLeakCheck();

describe('persister over amqps://', () => {
  let certs: TestCertificates;
  let node: RabbitNode;
  let mongo: MongoHandle;
  let port: number;

  before(async () => {
    certs = makeTestCertificates();
    port = await freePort();
    node = await startRabbitNode({ extraConfig: certs.rabbitConfig(port) });
    mongo = await startMongo();
  });
  after(async () => {
    await mongo?.close();
    await node?.stop();
    certs?.remove();
  });

  it('connects with the certificate files of its environment and consumes', async () => {
    const prefix = uniquePrefix('ptls');
    const persister = await startPersister({
      AMQP_URL: `amqps://guest:guest@127.0.0.1:${port}`,
      AMQP_CA_FILE: certs.caFile,
      AMQP_CERT_FILE: certs.clientCertFile,
      AMQP_KEY_FILE: certs.clientKeyFile,
      AMQP_KEY_PASSPHRASE: certs.clientKeyPassphrase,
      AMQP_SERVERNAME: certs.serverName,
      MONGO_URL: mongo.url,
      MONGO_DB: prefix.replace(/-/g, '_'),
      REDIS_URL: '',
      CHAT_PREFIX: prefix,
    });
    try {
      // The node is this test's own: its one client connection is the persister's (the broker lists it
      // once fully registered: poll briefly).
      let connections = '';
      const mine = () => connections.split('\n').filter((l) => l.includes(' -> '));
      await waitFor(async () => {
        connections = await node.rabbitmqctl(0, 'list_connections', 'name', 'ssl', 'peer_cert_subject', '--quiet');
        return mine().length > 0;
      }, 'the persister connection to be listed').catch(() => {});
      assert.equal(mine().length, 1, connections);
      assert.match(mine()[0]!, new RegExp(`\\ttrue\\t.*CN=${certs.clientName}`));
    } finally {
      persister.kill('SIGTERM');
      assert.equal(await persister.exited, 0, persister.logs.slice(-20).join('\n'));
      const names = topologyNames(prefix, 16);
      await deleteByPrefix(node.url, prefix, {
        queues: [names.persistQueue, names.deadQueue],
        exchanges: [names.frontExchange, ...names.routeExchanges, names.deadExchange],
      });
    }
  });

  it('stops at start, naming the variable, when a certificate file cannot be read', async () => {
    await assert.rejects(
      startPersister({
        AMQP_URL: `amqps://guest:guest@127.0.0.1:${port}`,
        AMQP_CA_FILE: `${certs.dir}/absent.pem`,
        MONGO_URL: mongo.url,
      }),
      /AMQP_CA_FILE: cannot read .*absent\.pem \(ENOENT\)/,
    );
  });
});
