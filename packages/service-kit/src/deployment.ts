// The variables every service of one deployment reads alike: the topology they must agree on
// (CHAT_PREFIX, CHAT_PARTITIONS, CHAT_SLOTS, CHAT_GRANULARITY), how their dispatches are published
// (BROADCAST_ABOVE_KEYS), the database and the log level.
import { ConfigError, type Env, int, str } from './env.js';

export interface DeploymentSettings {
  readonly prefix: string;
  readonly partitions: number;
  readonly slots: number;
  readonly granularity: 'slot' | 'user';
  /** The router's `broadcastAboveKeys`: `'auto'`, `'off'` or a key count. */
  readonly broadcastAboveKeys: 'auto' | 'off' | number;
  readonly mongoDb: string;
  readonly logLevel: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and checks them; throws a ConfigError naming the variable. */
export function deploymentSettings(env: Env): DeploymentSettings {
  const granularity = str(env, 'CHAT_GRANULARITY', 'slot');
  if (granularity !== 'slot' && granularity !== 'user') throw new ConfigError('CHAT_GRANULARITY must be slot or user');
  const partitions = int(env, 'CHAT_PARTITIONS', 16, 1, 1024);
  const slots = int(env, 'CHAT_SLOTS', 1024, 1, 1 << 20);
  if (slots % partitions !== 0) throw new ConfigError('CHAT_SLOTS must be a multiple of CHAT_PARTITIONS');
  const broadcast = str(env, 'BROADCAST_ABOVE_KEYS', 'auto');
  const broadcastAboveKeys =
    broadcast === 'auto' || broadcast === 'off' ? broadcast : int(env, 'BROADCAST_ABOVE_KEYS', 1, 1, 1 << 20);
  const prefix = str(env, 'CHAT_PREFIX', 'chat');
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix)) throw new ConfigError('CHAT_PREFIX has invalid characters');
  const mongoDb = str(env, 'MONGO_DB', 'chat');
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(mongoDb)) throw new ConfigError('MONGO_DB has invalid characters');
  const logLevel = str(env, 'LOG_LEVEL', 'info');
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL must be fatal, error, warn, info, debug, trace or silent');
  }
  return { prefix, partitions, slots, granularity, broadcastAboveKeys, mongoDb, logLevel };
}
