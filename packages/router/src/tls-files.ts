// TLS options from PEM files, for services that configure the router from files (the gateway and the
// persister read the paths from AMQP_CA_FILE, AMQP_CERT_FILE, AMQP_KEY_FILE).
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from './internal/errors.js';
import { type RouterTlsOptions, resolveTls } from './internal/tls.js';

/** Paths of PEM files, and the passphrase and server name; empty strings count as unset. */
export interface TlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  passphrase?: string;
  servername?: string;
}

const FIELDS = ['caFile', 'certFile', 'keyFile', 'passphrase', 'servername'] as const;

/**
 * Reads the files into `tls` options for `createRouter`, checked as createRouter checks them against
 * `urls`; undefined when nothing is set. `labels` name the fields in error messages (e.g. environment
 * variables). Throws `InvalidArgumentError` when a file cannot be read, a certificate comes without its
 * key (or the reverse), or a URL is not amqps://.
 */
export function readTlsFiles(
  urls: readonly string[],
  files: TlsFiles,
  labels: Readonly<Record<keyof TlsFiles, string>> = {
    caFile: 'caFile',
    certFile: 'certFile',
    keyFile: 'keyFile',
    passphrase: 'passphrase',
    servername: 'servername',
  },
): RouterTlsOptions | undefined {
  const set = FIELDS.filter((f) => files[f] !== undefined && files[f] !== '');
  if (set.length === 0) return undefined;
  const read = (field: 'caFile' | 'certFile' | 'keyFile'): Buffer | undefined => {
    const path = files[field];
    if (path === undefined || path === '') return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new InvalidArgumentError(
        `${labels[field]}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? err})`,
      );
    }
  };
  const tls: RouterTlsOptions = {};
  const ca = read('caFile');
  const cert = read('certFile');
  const key = read('keyFile');
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (files.passphrase) tls.passphrase = files.passphrase;
  if (files.servername) tls.servername = files.servername;
  if (!cert !== !key) throw new InvalidArgumentError(`${labels.certFile} and ${labels.keyFile} go together`);
  try {
    resolveTls(urls, tls);
  } catch (err) {
    throw new InvalidArgumentError(`${set.map((f) => labels[f]).join(', ')}: ${(err as Error).message}`);
  }
  return tls;
}
