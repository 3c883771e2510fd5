// The persister's configuration: read from the environment once, validated, frozen. A bad value
// stops the process at start with the variable's name.
import { hostname } from 'node:os';
import { type RouterTlsOptions, readTlsFiles } from '@chat/router';

export interface PersisterConfig {
  readonly amqpUrls: readonly string[];
  /** TLS options for amqps:// (from AMQP_*_FILE, AMQP_KEY_PASSPHRASE, AMQP_SERVERNAME); undefined: none. */
  readonly amqpTls: RouterTlsOptions | undefined;
  readonly mongoUrl: string;
  readonly mongoDb: string;
  /** Empty: no membership cache (membership read from MongoDB). */
  readonly redisUrl: string;
  readonly prefix: string;
  readonly partitions: number;
  readonly slots: number;
  readonly granularity: 'slot' | 'user';
  readonly persistDeliveryLimit: number;
  readonly persistMaxLength: number;
  readonly prefetch: number;
  readonly batchSize: number;
  readonly batchMs: number;
  readonly maxBatchesInFlight: number;
  readonly maxContentLength: number;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: string;
  readonly serverId: string;
  /** AMQP users whose durable writes are accepted; empty: only the persister's own AMQP user. */
  readonly writers: readonly string[];
  /** Declare the shared RabbitMQ topology at connect (false: only check it exists; least-privilege accounts). */
  readonly declareTopology: boolean;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  }
  return n;
}

function url(name: string, value: string, schemes: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a URL: "${value}"`);
  }
  if (!schemes.includes(parsed.protocol)) throw new ConfigError(`${name} must use ${schemes.join(' or ')}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name, String(fallback)).toLowerCase();
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** Secrets copied from an example (`.env.example` marks every one `change-me…`) are public. */
function refusePlaceholders(env: Env, names: readonly string[]): void {
  for (const name of names) {
    if (/change[-_]?me/i.test(env[name] ?? '')) {
      throw new ConfigError(`${name} still holds an example value (contains "change-me"): set a secret of your own`);
    }
  }
}

/** PERSIST_WRITERS: comma-separated AMQP user names. */
function writersOf(raw: string): string[] {
  const names = raw
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  for (const n of names) {
    if (n.length > 255) throw new ConfigError('PERSIST_WRITERS: a user name is longer than 255 bytes');
  }
  return names;
}

/** The variables of amqpTls, by field of readTlsFiles (named in its errors). */
const AMQP_TLS_VARIABLES = {
  caFile: 'AMQP_CA_FILE',
  certFile: 'AMQP_CERT_FILE',
  keyFile: 'AMQP_KEY_FILE',
  passphrase: 'AMQP_KEY_PASSPHRASE',
  servername: 'AMQP_SERVERNAME',
} as const;

/** TLS for amqps:// brokers: PEM files, the key's passphrase and the server name (see the README). */
function amqpTls(env: Env, amqpUrls: readonly string[]): RouterTlsOptions | undefined {
  const files = {
    caFile: str(env, 'AMQP_CA_FILE', ''),
    certFile: str(env, 'AMQP_CERT_FILE', ''),
    keyFile: str(env, 'AMQP_KEY_FILE', ''),
    passphrase: str(env, 'AMQP_KEY_PASSPHRASE', ''),
    servername: str(env, 'AMQP_SERVERNAME', ''),
  };
  try {
    return readTlsFiles(amqpUrls, files, AMQP_TLS_VARIABLES);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/** Documented in packages/persister/README.md; every variable has a default. */
export function loadConfig(env: Env = process.env): PersisterConfig {
  refusePlaceholders(env, ['AMQP_URL', 'MONGO_URL', 'REDIS_URL']);
  const amqpUrls = str(env, 'AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672')
    .split(',')
    .map((u) => url('AMQP_URL', u.trim(), ['amqp:', 'amqps:']));
  const redisRaw = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const granularity = str(env, 'CHAT_GRANULARITY', 'slot');
  if (granularity !== 'slot' && granularity !== 'user') throw new ConfigError('CHAT_GRANULARITY must be slot or user');
  const partitions = int(env, 'CHAT_PARTITIONS', 16, 1, 1024);
  const slots = int(env, 'CHAT_SLOTS', 1024, 1, 1 << 20);
  if (slots % partitions !== 0) throw new ConfigError('CHAT_SLOTS must be a multiple of CHAT_PARTITIONS');
  const prefix = str(env, 'CHAT_PREFIX', 'chat');
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix)) throw new ConfigError('CHAT_PREFIX has invalid characters');
  const mongoDb = str(env, 'MONGO_DB', 'chat');
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(mongoDb)) throw new ConfigError('MONGO_DB has invalid characters');
  const logLevel = str(env, 'LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL must be fatal, error, warn, info, debug, trace or silent');
  }
  return Object.freeze({
    amqpUrls: Object.freeze(amqpUrls),
    amqpTls: amqpTls(env, amqpUrls),
    mongoUrl: url('MONGO_URL', str(env, 'MONGO_URL', 'mongodb://127.0.0.1:27017'), ['mongodb:', 'mongodb+srv:']),
    mongoDb,
    redisUrl: redisRaw === '' ? '' : url('REDIS_URL', redisRaw, ['redis:', 'rediss:']),
    prefix,
    partitions,
    slots,
    granularity,
    persistDeliveryLimit: int(env, 'PERSIST_DELIVERY_LIMIT', 10, 1, 1000),
    persistMaxLength: int(env, 'PERSIST_MAX_LENGTH', 100_000, 0, 100_000_000),
    prefetch: int(env, 'PERSISTER_PREFETCH', 2000, 1, 65535),
    batchSize: int(env, 'PERSISTER_BATCH_SIZE', 500, 1, 100_000),
    batchMs: int(env, 'PERSISTER_BATCH_MS', 5, 0, 10_000),
    maxBatchesInFlight: int(env, 'PERSISTER_MAX_BATCHES', 2, 0, 1000),
    maxContentLength: int(env, 'MAX_CONTENT_LENGTH', 4000, 1, 100_000),
    httpHost: str(env, 'PERSISTER_HTTP_HOST', '0.0.0.0'),
    httpPort: int(env, 'PERSISTER_HTTP_PORT', 9101, 0, 65535),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    logLevel,
    serverId: str(env, 'SERVER_ID', `persister-${hostname()}-${process.pid}`),
    writers: Object.freeze(writersOf(str(env, 'PERSIST_WRITERS', ''))),
    declareTopology: bool(env, 'DECLARE_TOPOLOGY', true),
  });
}
