// TLS options for amqps:// brokers: validated once, then handed to amqplib, which passes them to
// Node's tls.connect on every (re)connect.
import { InvalidArgumentError } from './errors.js';

type Pem = string | Buffer;

/** What the router passes to `tls.connect` for amqps:// URLs (PEM strings or Buffers). */
export interface RouterTlsOptions {
  /** CA certificate(s) that signed the broker's certificate; default: Node's bundled CAs. */
  ca?: Pem | Pem[];
  /** Client certificate chain, for brokers that verify peers (`ssl_options.verify = verify_peer`). Needs `key`. */
  cert?: Pem;
  /** The client certificate's private key. Needs `cert`. */
  key?: Pem;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /** Name checked against the broker's certificate (and sent as SNI); default: the URL's host name (none for an IP). */
  servername?: string;
}

const KEYS = ['ca', 'cert', 'key', 'passphrase', 'servername'] as const;

const isPem = (v: unknown): v is Pem => (typeof v === 'string' && v !== '') || Buffer.isBuffer(v);

/**
 * Checks `tls` against the broker URLs and returns a frozen copy holding only the options above, or
 * undefined without TLS options. Throws `InvalidArgumentError` for unknown keys, empty or mistyped
 * values, a certificate without its key (or the reverse), and TLS options with an amqp:// URL (they
 * would be ignored there: plain TCP).
 */
export function resolveTls(
  urls: readonly string[],
  tls: RouterTlsOptions | undefined,
): Readonly<RouterTlsOptions> | undefined {
  if (tls === undefined) return undefined;
  if (typeof tls !== 'object' || tls === null) throw new InvalidArgumentError('tls must be an object');
  const unknown = Object.keys(tls).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`tls: unknown option ${unknown.join(', ')} (known: ${KEYS.join(', ')})`);
  const out: RouterTlsOptions = {};
  if (tls.ca !== undefined) {
    const list = Array.isArray(tls.ca) ? tls.ca : [tls.ca];
    if (list.length === 0 || !list.every(isPem))
      throw new InvalidArgumentError('tls.ca must be PEM text or a Buffer, or a non-empty array of them');
    out.ca = Array.isArray(tls.ca) ? [...tls.ca] : tls.ca;
  }
  for (const k of ['cert', 'key'] as const) {
    if (tls[k] === undefined) continue;
    if (!isPem(tls[k])) throw new InvalidArgumentError(`tls.${k} must be PEM text or a Buffer`);
    out[k] = tls[k];
  }
  if ((out.cert === undefined) !== (out.key === undefined))
    throw new InvalidArgumentError('tls.cert and tls.key go together');
  for (const k of ['passphrase', 'servername'] as const) {
    if (tls[k] === undefined) continue;
    if (typeof tls[k] !== 'string' || tls[k] === '')
      throw new InvalidArgumentError(`tls.${k} must be a non-empty string`);
    out[k] = tls[k];
  }
  const plain = urls.filter((u) => !u.startsWith('amqps://'));
  if (plain.length > 0) throw new InvalidArgumentError('tls options need amqps:// URLs; every url must use amqps://');
  return Object.freeze(out);
}
