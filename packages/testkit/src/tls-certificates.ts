// Certificates for TLS tests, made with the openssl CLI: a CA, a server certificate for "localhost"
// only (no IP address, so clients connecting by address must name the server), and a client
// certificate whose key is encrypted. Plus the rabbitmq.conf lines of a node that listens for TLS,
// verifies peers and refuses clients without a certificate.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  readonly dir: string;
  /** PEM files. */
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  /** Encrypted with `clientKeyPassphrase`. */
  readonly clientKeyFile: string;
  readonly clientKeyPassphrase: string;
  /** The name in the server certificate ("localhost"). */
  readonly serverName: string;
  /** The client certificate's subject common name. */
  readonly clientName: string;
  /** rabbitmq.conf lines (for `extraConfig`): TLS listener on 127.0.0.1:`port`, verify_peer, fail_if_no_peer_cert. */
  rabbitConfig(port: number): string;
  /** Deletes the directory. */
  remove(): void;
}

/** Makes fresh certificates (valid 2 days) in a new temporary directory. Needs `openssl` on PATH. */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'testkit-tls-'));
  const passphrase = 'client key passphrase';
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const sign = (name: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  try {
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=chat test CA',
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    );
    sign('server', 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-passout',
      `pass:${passphrase}`,
      '-keyout',
      'client.key',
      '-out',
      'client.csr',
      '-subj',
      '/CN=chat client',
    );
    sign('client', 'extendedKeyUsage=clientAuth\n');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`openssl failed: ${(error as { stderr?: Buffer }).stderr?.toString() ?? error}`);
  }
  const file = (name: string) => join(dir, name);
  return {
    dir,
    caFile: file('ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    clientKeyPassphrase: passphrase,
    serverName: 'localhost',
    clientName: 'chat client',
    rabbitConfig: (port) =>
      [
        `listeners.ssl.default = 127.0.0.1:${port}`,
        `ssl_options.cacertfile = ${file('ca.crt')}`,
        `ssl_options.certfile = ${file('server.crt')}`,
        `ssl_options.keyfile = ${file('server.key')}`,
        'ssl_options.verify = verify_peer',
        'ssl_options.fail_if_no_peer_cert = true',
      ].join('\n'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
