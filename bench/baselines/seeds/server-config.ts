// A seed server's settings, read from its environment once and checked (seed-system.ts sets them).
// A missing or malformed variable stops the process at start with the variable's name.
import { isSeedDesign, type SeedDesign } from './designs.js';

export interface SeedServerConfig {
  design: SeedDesign;
  serverId: string;
  workerId: number;
  prefix: string;
  host: string;
  port: number;
  jwtSecret: string;
  membershipFile: string;
  amqpUrl: string;
  redisUrl: string;
  /** The process exits if it is not listening this long after it started. */
  startTimeoutMs: number;
}

export class SeedConfigError extends Error {
  override name = 'SeedConfigError';
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new SeedConfigError(`${name} is required`);
  return value;
}

function integer(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number {
  const text = required(env, name);
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SeedConfigError(`${name} must be an integer in ${min}..${max}, got '${text}'`);
  }
  return value;
}

export function loadSeedServerConfig(env: NodeJS.ProcessEnv = process.env): SeedServerConfig {
  const design = required(env, 'SEED_DESIGN');
  if (!isSeedDesign(design)) throw new SeedConfigError(`SEED_DESIGN '${design}' is not a seed design`);
  const serverId = required(env, 'SEED_SERVER_ID');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(serverId)) throw new SeedConfigError('SEED_SERVER_ID must be [A-Za-z0-9_-]{1,64}');
  const prefix = required(env, 'SEED_PREFIX');
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix) || prefix.length < 3) {
    throw new SeedConfigError('SEED_PREFIX must be dot-separated [A-Za-z0-9_-] words, at least 3 characters');
  }
  return {
    design,
    serverId,
    workerId: integer(env, 'SEED_WORKER_ID', 0, 1023),
    prefix,
    host: env.SEED_HOST || '127.0.0.1',
    port: integer(env, 'SEED_PORT', 1, 65535),
    jwtSecret: required(env, 'JWT_SECRET'),
    membershipFile: required(env, 'SEED_MEMBERSHIP_FILE'),
    amqpUrl: env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672',
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    startTimeoutMs: env.SEED_START_TIMEOUT_MS ? integer(env, 'SEED_START_TIMEOUT_MS', 1000, 600_000) : 60_000,
  };
}
