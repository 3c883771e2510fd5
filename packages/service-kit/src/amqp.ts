// The broker variables both services read: AMQP_URL (one URL per cluster node) and the TLS block
// for amqps:// (AMQP_CA_FILE, AMQP_CERT_FILE, AMQP_KEY_FILE, AMQP_KEY_PASSPHRASE, AMQP_SERVERNAME).
import { type RouterTlsOptions, readTlsFiles } from '@chat/router';
import { ConfigError, type Env, str, url } from './env.js';

/** AMQP_URL: comma-separated amqp:// or amqps:// URLs, one per cluster node; default the local broker. */
export function amqpUrls(env: Env): readonly string[] {
  return Object.freeze(
    str(env, 'AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672')
      .split(',')
      .map((u) => url('AMQP_URL', u.trim(), ['amqp:', 'amqps:'])),
  );
}

/** The variables of amqpTls, by field of readTlsFiles (named in its errors). */
const AMQP_TLS_VARIABLES = {
  caFile: 'AMQP_CA_FILE',
  certFile: 'AMQP_CERT_FILE',
  keyFile: 'AMQP_KEY_FILE',
  passphrase: 'AMQP_KEY_PASSPHRASE',
  servername: 'AMQP_SERVERNAME',
} as const;

/**
 * TLS options for the router from PEM files, the key's passphrase and the server name; undefined when
 * none is set. Throws a ConfigError naming the variable when a file cannot be read, a certificate comes
 * without its key (or the reverse), or one of `urls` is not amqps://.
 */
export function amqpTls(env: Env, urls: readonly string[]): RouterTlsOptions | undefined {
  const files = {
    caFile: str(env, 'AMQP_CA_FILE', ''),
    certFile: str(env, 'AMQP_CERT_FILE', ''),
    keyFile: str(env, 'AMQP_KEY_FILE', ''),
    passphrase: str(env, 'AMQP_KEY_PASSPHRASE', ''),
    servername: str(env, 'AMQP_SERVERNAME', ''),
  };
  try {
    return readTlsFiles(urls, files, AMQP_TLS_VARIABLES);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}
