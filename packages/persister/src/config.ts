// The persister's configuration: read from the environment once, validated, frozen. A bad value
// stops the process at start with the variable's name.
import { hostname } from 'node:os';
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

export { ConfigError };

export interface PersisterConfig extends DeploymentSettings {
  readonly amqpUrls: readonly string[];
  /** TLS options for amqps:// (from AMQP_*_FILE, AMQP_KEY_PASSPHRASE, AMQP_SERVERNAME); undefined: none. */
  readonly amqpTls: RouterTlsOptions | undefined;
  readonly mongoUrl: string;
  /** Empty: no membership cache (membership read from MongoDB). */
  readonly redisUrl: string;
  readonly persistDeliveryLimit: number;
  readonly persistMaxLength: number;
  readonly prefetch: number;
  readonly batchSize: number;
  readonly batchMs: number;
  readonly maxBatchesInFlight: number;
  readonly maxContentLength: number;
  /** Channels whose top ordinal the store remembers from its own appends (0: read the counts every batch). */
  readonly ordinalCacheChannels: number;
  /**
   * V8's young-generation growth factor (V8_SEMI_SPACE_GROWTH), set at start. 16 regrows the new space to its
   * 16 MiB semi-spaces in one step after V8 shrank it during an idle spell (bench/results/cold-start-2026-12-04.md §5).
   */
  readonly semiSpaceGrowth: number;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly shutdownTimeoutMs: number;
  readonly serverId: string;
  /** AMQP users whose durable writes are accepted; empty: only the persister's own AMQP user. */
  readonly writers: readonly string[];
  /** Declare the shared RabbitMQ topology at connect (false: only check it exists; least-privilege accounts). */
  readonly declareTopology: boolean;
}

/** Documented in packages/persister/README.md; every variable has a default. */
export function loadConfig(env: Env = process.env): PersisterConfig {
  refusePlaceholders(env, ['AMQP_URL', 'MONGO_URL', 'REDIS_URL']);
  const urls = amqpUrls(env);
  const redisRaw = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const deployment = deploymentSettings(env);
  return Object.freeze({
    amqpUrls: urls,
    amqpTls: amqpTls(env, urls),
    mongoUrl: url('MONGO_URL', str(env, 'MONGO_URL', 'mongodb://127.0.0.1:27017'), ['mongodb:', 'mongodb+srv:']),
    redisUrl: redisRaw === '' ? '' : url('REDIS_URL', redisRaw, ['redis:', 'rediss:']),
    ...deployment,
    persistDeliveryLimit: int(env, 'PERSIST_DELIVERY_LIMIT', 10, 1, 1000),
    persistMaxLength: int(env, 'PERSIST_MAX_LENGTH', 100_000, 0, 100_000_000),
    prefetch: int(env, 'PERSISTER_PREFETCH', 2000, 1, 65535),
    batchSize: int(env, 'PERSISTER_BATCH_SIZE', 500, 1, 100_000),
    batchMs: duration(env, 'PERSISTER_BATCH_MS', 20, 0, 10_000),
    maxBatchesInFlight: int(env, 'PERSISTER_MAX_BATCHES', 2, 0, 1000),
    maxContentLength: int(env, 'MAX_CONTENT_LENGTH', 4000, 1, 100_000),
    ordinalCacheChannels: int(env, 'PERSISTER_ORDINAL_CACHE_CHANNELS', 50_000, 0, 10_000_000),
    semiSpaceGrowth: int(env, 'V8_SEMI_SPACE_GROWTH', 16, 1, 16),
    httpHost: str(env, 'PERSISTER_HTTP_HOST', '0.0.0.0'),
    httpPort: int(env, 'PERSISTER_HTTP_PORT', 9101, 0, 65535),
    shutdownTimeoutMs: duration(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    serverId: str(env, 'SERVER_ID', `persister-${hostname()}-${process.pid}`),
    writers: list(env, 'PERSIST_WRITERS', [], (n) => (n.length > 255 ? 'is longer than 255 bytes' : undefined)),
    declareTopology: bool(env, 'DECLARE_TOPOLOGY', true),
  });
}
