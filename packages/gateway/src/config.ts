// The gateway's configuration: read from the environment once, validated, frozen. A bad value
// stops the process at start with the variable's name (exit code 2).
import { hostname } from 'node:os';
import { type RouterTlsOptions, readTlsFiles } from '@chat/router';
import { parseCidr } from './client-address.js';

export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  readonly serverId: string;
  readonly amqpUrls: readonly string[];
  /** TLS options for amqps:// (from AMQP_*_FILE, AMQP_KEY_PASSPHRASE, AMQP_SERVERNAME); undefined: none. */
  readonly amqpTls: RouterTlsOptions | undefined;
  readonly mongoUrl: string;
  readonly mongoDb: string;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly partitions: number;
  readonly slots: number;
  readonly granularity: 'slot' | 'user';
  readonly attachLingerMs: number;
  readonly jwtSecret: string;
  readonly jwtTtlSeconds: number;
  readonly defaultGroup: string;
  readonly heartbeatIntervalMs: number;
  readonly identifyTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly rateFrames: number;
  readonly rateWindowMs: number;
  readonly rateBurst: number;
  readonly userRateRequests: number;
  readonly httpRateRequests: number;
  readonly maxContentLength: number;
  readonly maxBackpressureBytes: number;
  readonly slowConsumerGraceMs: number;
  readonly resumeMax: number;
  readonly httpBodyMaxBytes: number;
  readonly drainTimeoutMs: number;
  /** Origins (exact `scheme://host[:port]`) whose browsers may call the HTTP API cross-origin (CORS). */
  readonly corsOrigins: readonly string[];
  /** Peers (CIDRs) whose X-Real-IP / X-Forwarded-For name the client; nobody else's are read. */
  readonly trustedProxies: readonly string[];
  readonly maxSocketsPerUser: number;
  readonly maxPendingSocketsPerAddress: number;
  readonly maxSocketsPerAddress: number;
  readonly loginRateRequests: number;
  readonly loginAddressRateRequests: number;
  readonly authFailureBudget: number;
  readonly signupRateRequests: number;
  readonly resumeHorizonMs: number;
  /** Declare the shared RabbitMQ topology at connect (false: only check it exists; least-privilege accounts). */
  readonly declareTopology: boolean;
  /** Groups one user may be in (the default group counts). */
  readonly maxGroupsPerUser: number;
  /** Members of one group (the default group excepted). */
  readonly maxGroupMembers: number;
  /** Password hashing: scrypt N = 2^scryptLogN, hashes at once, hashes waiting (then `overloaded`). */
  readonly scryptLogN: number;
  readonly passwordHashConcurrency: number;
  readonly passwordHashQueue: number;
  readonly persistDeliveryLimit: number;
  readonly persistMaxLength: number;
  readonly maxInflightWrites: number;
  readonly maxInflightWritesPerConnection: number;
  readonly overloadRetryAfterMs: number;
  readonly overloadConfirmTargetMs: number;
  readonly overloadPathTargetMs: number;
  /** Presence: groups with more members than this send none (0: DMs only). */
  readonly presenceMaxGroupMembers: number;
  /** Presence: users told of one user's change at most. */
  readonly presenceMaxAudience: number;
  /** Presence: this gateway's heartbeat in Redis. */
  readonly presenceHeartbeatMs: number;
  /** Presence: a gateway silent this long is dead, its users offline (the bound after a crash, plus one heartbeat). */
  readonly presenceTimeoutMs: number;
  /** Presence: a user is announced offline only if still offline this long after its last socket closed. */
  readonly presenceOfflineGraceMs: number;
  /** Snowflake worker ids this gateway may lease (WORKER_ID_RANGE `first-last`); one range per site. */
  readonly workerIds: { readonly first: number; readonly last: number };
  readonly logLevel: string;
  /** V8's young-generation growth factor (V8_SEMI_SPACE_GROWTH): 1 keeps the semi-spaces at their initial size. */
  readonly semiSpaceGrowth: number;
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
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return n;
}

/** A comma-separated list of CIDRs (or single addresses), each checked by parseCidr. */
function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function cidrs(env: Env, name: string): readonly string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return Object.freeze([]);
  const list = raw.split(',').map((c) => c.trim());
  for (const c of list) if (!parseCidr(c)) throw new ConfigError(`${name}: "${c}" is not an address or CIDR`);
  return Object.freeze(list);
}

/** A comma-separated list of exact origins (`https://app.example.com`, `http://localhost:5173`). */
function origins(env: Env, name: string): readonly string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return Object.freeze([]);
  const list = raw.split(',').map((o) => o.trim());
  for (const o of list) {
    let origin: string | undefined;
    try {
      const u = new URL(o);
      origin = u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : undefined;
    } catch {
      origin = undefined;
    }
    if (origin !== o)
      throw new ConfigError(
        `${name}: "${o}" is not an origin (scheme://host[:port], no path, no trailing slash, no *)`,
      );
  }
  return Object.freeze(list);
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

/**
 * Secrets copied from an example (`.env.example` marks every one `change-me…`; older compose files
 * shipped `dev-only-jwt-secret-change-me…`) are public: anyone could mint tokens or log in to the broker.
 */
function refusePlaceholders(env: Env, names: readonly string[]): void {
  for (const name of names) {
    if (/change[-_]?me/i.test(env[name] ?? '')) {
      throw new ConfigError(`${name} still holds an example value (contains "change-me"): set a secret of your own`);
    }
  }
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

/** `first-last`, inclusive, within the 1,024 snowflake worker ids. */
function workerIdRange(env: Env, name: string): { first: number; last: number } {
  const raw = str(env, name, '0-1023');
  const m = /^(\d{1,4})-(\d{1,4})$/.exec(raw);
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (!m || first > last || last > 1023)
    throw new ConfigError(`${name} must be first-last with 0 ≤ first ≤ last ≤ 1023`);
  return Object.freeze({ first, last });
}

/** Every variable is documented in packages/gateway/README.md. */
export function loadConfig(env: Env = process.env): GatewayConfig {
  // A retired variable (read by name here only to refuse it; not part of the configuration).
  const retired = 'TRUST_PROXY';
  if (env[retired] !== undefined && env[retired] !== '')
    throw new ConfigError("TRUST_PROXY was replaced by TRUSTED_PROXIES (the proxies' addresses or CIDRs)");
  const jwtSecret = env.JWT_SECRET ?? '';
  if (jwtSecret.length < 32) throw new ConfigError('JWT_SECRET must be set to at least 32 characters');
  refusePlaceholders(env, ['JWT_SECRET', 'AMQP_URL', 'MONGO_URL', 'REDIS_URL']);
  const serverId = str(env, 'SERVER_ID', `gw-${hostname()}-${process.pid}`)
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .slice(0, 64);
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
  const amqpUrls = str(env, 'AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672')
    .split(',')
    .map((u) => url('AMQP_URL', u.trim(), ['amqp:', 'amqps:']));
  const defaultGroup = env.DEFAULT_GROUP ?? 'official';
  if (defaultGroup.length > 100) throw new ConfigError('DEFAULT_GROUP must be at most 100 characters');
  const presenceHeartbeatMs = int(env, 'PRESENCE_HEARTBEAT_MS', 10_000, 100, 600_000);
  const presenceTimeoutMs = int(env, 'PRESENCE_TIMEOUT_MS', 30_000, 300, 3_600_000);
  if (presenceTimeoutMs < 2 * presenceHeartbeatMs)
    throw new ConfigError('PRESENCE_TIMEOUT_MS must be at least twice PRESENCE_HEARTBEAT_MS');
  return Object.freeze({
    host: str(env, 'HOST', '0.0.0.0'),
    port: int(env, 'PORT', 8080, 0, 65535),
    serverId,
    amqpUrls: Object.freeze(amqpUrls),
    amqpTls: amqpTls(env, amqpUrls),
    mongoUrl: url('MONGO_URL', str(env, 'MONGO_URL', 'mongodb://127.0.0.1:27017'), ['mongodb:', 'mongodb+srv:']),
    mongoDb,
    redisUrl: url('REDIS_URL', str(env, 'REDIS_URL', 'redis://127.0.0.1:6379'), ['redis:', 'rediss:']),
    prefix,
    partitions,
    slots,
    granularity,
    attachLingerMs: int(env, 'ATTACH_LINGER_MS', 2000, 0, 600_000),
    jwtSecret,
    jwtTtlSeconds: int(env, 'JWT_TTL_SECONDS', 86_400, 60, 365 * 86_400),
    defaultGroup,
    heartbeatIntervalMs: int(env, 'HEARTBEAT_INTERVAL_MS', 30_000, 100, 600_000),
    identifyTimeoutMs: int(env, 'IDENTIFY_TIMEOUT_MS', 10_000, 100, 600_000),
    maxFrameBytes: int(env, 'MAX_FRAME_BYTES', 16_384, 256, 1 << 20),
    rateFrames: int(env, 'RATE_FRAMES', 120, 1, 1_000_000),
    rateWindowMs: int(env, 'RATE_WINDOW_MS', 60_000, 100, 3_600_000),
    rateBurst: int(env, 'RATE_BURST', 20, 1, 1_000_000),
    userRateRequests: int(env, 'USER_RATE_REQUESTS', 240, 1, 1_000_000),
    httpRateRequests: int(env, 'HTTP_RATE_REQUESTS', 300, 1, 1_000_000),
    maxContentLength: int(env, 'MAX_CONTENT_LENGTH', 4000, 1, 100_000),
    maxBackpressureBytes: int(env, 'MAX_BACKPRESSURE_BYTES', 1 << 20, 1024, 1 << 30),
    slowConsumerGraceMs: int(env, 'SLOW_CONSUMER_GRACE_MS', 5_000, 0, 600_000),
    resumeMax: int(env, 'RESUME_MAX', 1000, 1, 100_000),
    httpBodyMaxBytes: int(env, 'HTTP_BODY_MAX_BYTES', 65_536, 1024, 16 << 20),
    drainTimeoutMs: int(env, 'DRAIN_TIMEOUT_MS', 10_000, 100, 600_000),
    trustedProxies: cidrs(env, 'TRUSTED_PROXIES'),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    maxSocketsPerUser: int(env, 'MAX_SOCKETS_PER_USER', 25, 1, 10_000_000),
    maxPendingSocketsPerAddress: int(env, 'MAX_PENDING_SOCKETS_PER_ADDRESS', 32, 1, 10_000_000),
    maxSocketsPerAddress: int(env, 'MAX_SOCKETS_PER_ADDRESS', 5000, 1, 10_000_000),
    loginRateRequests: int(env, 'LOGIN_RATE_REQUESTS', 10, 1, 100_000_000),
    loginAddressRateRequests: int(env, 'LOGIN_ADDRESS_RATE_REQUESTS', 60, 1, 100_000_000),
    authFailureBudget: int(env, 'AUTH_FAILURE_BUDGET', 60, 1, 100_000_000),
    signupRateRequests: int(env, 'SIGNUP_RATE_REQUESTS', 600, 1, 100_000_000),
    resumeHorizonMs: int(env, 'RESUME_HORIZON_MS', 86_400_000, 1000, 365 * 86_400_000),
    declareTopology: bool(env, 'DECLARE_TOPOLOGY', true),
    maxGroupsPerUser: int(env, 'MAX_GROUPS_PER_USER', 100, 1, 100_000),
    maxGroupMembers: int(env, 'MAX_GROUP_MEMBERS', 1000, 2, 1_000_000),
    scryptLogN: int(env, 'SCRYPT_LOG_N', 17, 10, 20),
    passwordHashConcurrency: int(env, 'PASSWORD_HASH_CONCURRENCY', 2, 1, 64),
    passwordHashQueue: int(env, 'PASSWORD_HASH_QUEUE', 64, 0, 10_000),
    persistDeliveryLimit: int(env, 'PERSIST_DELIVERY_LIMIT', 10, 1, 1000),
    persistMaxLength: int(env, 'PERSIST_MAX_LENGTH', 100_000, 0, 100_000_000),
    maxInflightWrites: int(env, 'MAX_INFLIGHT_WRITES', 256, 1, 1_000_000),
    maxInflightWritesPerConnection: int(env, 'MAX_INFLIGHT_WRITES_PER_CONNECTION', 16, 1, 1_000_000),
    overloadRetryAfterMs: int(env, 'OVERLOAD_RETRY_AFTER_MS', 1000, 1, 600_000),
    overloadConfirmTargetMs: int(env, 'OVERLOAD_CONFIRM_TARGET_MS', 250, 0, 600_000),
    overloadPathTargetMs: int(env, 'OVERLOAD_PATH_TARGET_MS', 250, 0, 600_000),
    presenceMaxGroupMembers: int(env, 'PRESENCE_MAX_GROUP_MEMBERS', 100, 0, 1_000_000),
    presenceMaxAudience: int(env, 'PRESENCE_MAX_AUDIENCE', 1000, 1, 100_000),
    presenceHeartbeatMs,
    presenceTimeoutMs,
    workerIds: workerIdRange(env, 'WORKER_ID_RANGE'),
    presenceOfflineGraceMs: int(env, 'PRESENCE_OFFLINE_GRACE_MS', 5000, 0, 600_000),
    logLevel,
    semiSpaceGrowth: int(env, 'V8_SEMI_SPACE_GROWTH', 1, 1, 16),
  });
}
