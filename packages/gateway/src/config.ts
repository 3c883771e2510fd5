// The gateway's configuration: read from the environment once, validated, frozen. A bad value
// stops the process at start with the variable's name (exit code 2).
import { hostname } from 'node:os';
import { REPLY_TO_PENDING_MS } from '@chat/protocol';
import type { RouterTlsOptions } from '@chat/router';
import {
  amqpTls,
  amqpUrls,
  bool,
  ConfigError,
  type DeploymentSettings,
  deploymentSettings,
  duration,
  type Env,
  int,
  list,
  refusePlaceholders,
  str,
  url,
} from '@chat/service-kit';
import { type AdminConfig, managementBase, vhostOf } from './admin-config.js';
import { parseCidr } from './client-address.js';

export { ConfigError };

export interface GatewayConfig extends DeploymentSettings {
  readonly host: string;
  readonly port: number;
  readonly serverId: string;
  readonly amqpUrls: readonly string[];
  /** TLS options for amqps:// (from AMQP_*_FILE, AMQP_KEY_PASSPHRASE, AMQP_SERVERNAME); undefined: none. */
  readonly amqpTls: RouterTlsOptions | undefined;
  readonly mongoUrl: string;
  readonly redisUrl: string;
  readonly attachLingerMs: number;
  /** After a mass disconnect, keep released routing keys bound this long (router's massReleaseHoldMs). */
  readonly massDisconnectHoldMs: number;
  /** Durable-write bundles leave at most once per this many ms (router's writeIntervalMs). */
  readonly writeBundleIntervalMs: number;
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
  /** `x-max-length` of this gateway's own queue (router `gatewayQueueMaxLength`; 0 = none). */
  readonly gatewayQueueMaxLength: number;
  /** `x-max-length-bytes` of this gateway's own queue (router `gatewayQueueMaxBytes`; 0 = none). */
  readonly gatewayQueueMaxBytes: number;
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
  /** V8's young-generation growth factor (V8_SEMI_SPACE_GROWTH): 1 keeps the semi-spaces at their initial size. */
  readonly semiSpaceGrowth: number;
  /** After Redis lost the nonce records (restarted empty), writes with a nonce are refused this long (NONCE_RECOVERY_MS). */
  readonly nonceRecoveryMs: number;
  /** How far (ms) from now a `reply_to` id not stored yet may be and still be accepted (docs/protocol.md §4.1). */
  readonly replyToPendingMs: number;
  /** The operator's view (admin-config.ts): who is an admin, where the RabbitMQ management API is. */
  readonly admin: AdminConfig;
}

/** Origins (exact `https://app.example.com`, `http://localhost:5173`): no path, no trailing slash, no `*`. */
function isOrigin(o: string): boolean {
  try {
    const u = new URL(o);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === o;
  } catch {
    return false;
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
  const deployment = deploymentSettings(env);
  const urls = amqpUrls(env);
  const defaultGroup = env.DEFAULT_GROUP ?? 'official';
  if (defaultGroup.length > 100) throw new ConfigError('DEFAULT_GROUP must be at most 100 characters');
  const presenceHeartbeatMs = duration(env, 'PRESENCE_HEARTBEAT_MS', 10_000, 100, 600_000);
  const presenceTimeoutMs = duration(env, 'PRESENCE_TIMEOUT_MS', 30_000, 300, 3_600_000);
  if (presenceTimeoutMs < 2 * presenceHeartbeatMs)
    throw new ConfigError('PRESENCE_TIMEOUT_MS must be at least twice PRESENCE_HEARTBEAT_MS');
  return Object.freeze({
    host: str(env, 'HOST', '0.0.0.0'),
    port: int(env, 'PORT', 8080, 0, 65535),
    serverId,
    amqpUrls: urls,
    amqpTls: amqpTls(env, urls),
    mongoUrl: url('MONGO_URL', str(env, 'MONGO_URL', 'mongodb://127.0.0.1:27017'), ['mongodb:', 'mongodb+srv:']),
    redisUrl: url('REDIS_URL', str(env, 'REDIS_URL', 'redis://127.0.0.1:6379'), ['redis:', 'rediss:']),
    ...deployment,
    attachLingerMs: duration(env, 'ATTACH_LINGER_MS', 2000, 0, 600_000),
    massDisconnectHoldMs: duration(env, 'MASS_DISCONNECT_HOLD_MS', 30_000, 0, 600_000),
    writeBundleIntervalMs: duration(env, 'WRITE_BUNDLE_INTERVAL_MS', 20, 0, 1_000),
    jwtSecret,
    jwtTtlSeconds: int(env, 'JWT_TTL_SECONDS', 86_400, 60, 365 * 86_400),
    defaultGroup,
    heartbeatIntervalMs: duration(env, 'HEARTBEAT_INTERVAL_MS', 30_000, 100, 600_000),
    identifyTimeoutMs: duration(env, 'IDENTIFY_TIMEOUT_MS', 10_000, 100, 600_000),
    maxFrameBytes: int(env, 'MAX_FRAME_BYTES', 16_384, 256, 1 << 20),
    rateFrames: int(env, 'RATE_FRAMES', 120, 1, 1_000_000),
    rateWindowMs: duration(env, 'RATE_WINDOW_MS', 60_000, 100, 3_600_000),
    rateBurst: int(env, 'RATE_BURST', 20, 1, 1_000_000),
    userRateRequests: int(env, 'USER_RATE_REQUESTS', 240, 1, 1_000_000),
    httpRateRequests: int(env, 'HTTP_RATE_REQUESTS', 300, 1, 1_000_000),
    maxContentLength: int(env, 'MAX_CONTENT_LENGTH', 4000, 1, 100_000),
    maxBackpressureBytes: int(env, 'MAX_BACKPRESSURE_BYTES', 1 << 20, 1024, 1 << 30),
    slowConsumerGraceMs: duration(env, 'SLOW_CONSUMER_GRACE_MS', 5_000, 0, 600_000),
    resumeMax: int(env, 'RESUME_MAX', 1000, 1, 100_000),
    httpBodyMaxBytes: int(env, 'HTTP_BODY_MAX_BYTES', 65_536, 1024, 16 << 20),
    drainTimeoutMs: duration(env, 'DRAIN_TIMEOUT_MS', 10_000, 100, 600_000),
    trustedProxies: list(env, 'TRUSTED_PROXIES', [], (c) => (parseCidr(c) ? undefined : 'is not an address or CIDR')),
    corsOrigins: list(env, 'CORS_ORIGINS', [], (o) =>
      isOrigin(o) ? undefined : 'is not an origin (scheme://host[:port], no path, no trailing slash, no *)',
    ),
    maxSocketsPerUser: int(env, 'MAX_SOCKETS_PER_USER', 25, 1, 10_000_000),
    maxPendingSocketsPerAddress: int(env, 'MAX_PENDING_SOCKETS_PER_ADDRESS', 32, 1, 10_000_000),
    maxSocketsPerAddress: int(env, 'MAX_SOCKETS_PER_ADDRESS', 5000, 1, 10_000_000),
    loginRateRequests: int(env, 'LOGIN_RATE_REQUESTS', 10, 1, 100_000_000),
    loginAddressRateRequests: int(env, 'LOGIN_ADDRESS_RATE_REQUESTS', 60, 1, 100_000_000),
    authFailureBudget: int(env, 'AUTH_FAILURE_BUDGET', 60, 1, 100_000_000),
    signupRateRequests: int(env, 'SIGNUP_RATE_REQUESTS', 600, 1, 100_000_000),
    resumeHorizonMs: duration(env, 'RESUME_HORIZON_MS', 86_400_000, 1000, 365 * 86_400_000),
    declareTopology: bool(env, 'DECLARE_TOPOLOGY', true),
    maxGroupsPerUser: int(env, 'MAX_GROUPS_PER_USER', 100, 1, 100_000),
    maxGroupMembers: int(env, 'MAX_GROUP_MEMBERS', 1000, 2, 1_000_000),
    scryptLogN: int(env, 'SCRYPT_LOG_N', 17, 10, 20),
    passwordHashConcurrency: int(env, 'PASSWORD_HASH_CONCURRENCY', 2, 1, 64),
    passwordHashQueue: int(env, 'PASSWORD_HASH_QUEUE', 64, 0, 10_000),
    persistDeliveryLimit: int(env, 'PERSIST_DELIVERY_LIMIT', 10, 1, 1000),
    persistMaxLength: int(env, 'PERSIST_MAX_LENGTH', 100_000, 0, 100_000_000),
    gatewayQueueMaxLength: int(env, 'GATEWAY_QUEUE_MAX_LENGTH', 10_000, 0, 100_000_000),
    gatewayQueueMaxBytes: int(env, 'GATEWAY_QUEUE_MAX_BYTES', 64 * 1024 * 1024, 0, 2 ** 40),
    maxInflightWrites: int(env, 'MAX_INFLIGHT_WRITES', 256, 1, 1_000_000),
    maxInflightWritesPerConnection: int(env, 'MAX_INFLIGHT_WRITES_PER_CONNECTION', 16, 1, 1_000_000),
    overloadRetryAfterMs: duration(env, 'OVERLOAD_RETRY_AFTER_MS', 1000, 1, 600_000),
    overloadConfirmTargetMs: duration(env, 'OVERLOAD_CONFIRM_TARGET_MS', 250, 0, 600_000),
    overloadPathTargetMs: duration(env, 'OVERLOAD_PATH_TARGET_MS', 150, 0, 600_000),
    presenceMaxGroupMembers: int(env, 'PRESENCE_MAX_GROUP_MEMBERS', 100, 0, 1_000_000),
    presenceMaxAudience: int(env, 'PRESENCE_MAX_AUDIENCE', 1000, 1, 100_000),
    presenceHeartbeatMs,
    presenceTimeoutMs,
    workerIds: workerIdRange(env, 'WORKER_ID_RANGE'),
    presenceOfflineGraceMs: duration(env, 'PRESENCE_OFFLINE_GRACE_MS', 5000, 0, 600_000),
    semiSpaceGrowth: int(env, 'V8_SEMI_SPACE_GROWTH', 1, 1, 16),
    nonceRecoveryMs: duration(env, 'NONCE_RECOVERY_MS', 30_000, 0, 86_400_000),
    replyToPendingMs: duration(env, 'REPLY_TO_PENDING_MS', REPLY_TO_PENDING_MS, 0, 3_600_000),
    admin: Object.freeze({
      users: list(env, 'ADMIN_USERS', [], (u) => (u.length > 100 ? 'is longer than 100 characters' : undefined)),
      managementUrl: managementBase(str(env, 'RABBITMQ_MANAGEMENT_URL', 'http://127.0.0.1:15672')),
      managementUser: str(env, 'RABBITMQ_MANAGEMENT_USER', 'guest'),
      managementPassword: str(env, 'RABBITMQ_MANAGEMENT_PASSWORD', 'guest'),
      vhost: vhostOf(urls[0]!),
    }),
  });
}
