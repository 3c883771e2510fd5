// The gateway's request budgets, shared by every gateway through Redis (one window of RATE_WINDOW_MS):
// requests per user (WebSocket and HTTP together), unauthenticated HTTP requests per address, and the
// abuse budgets of authentication (docs/protocol.md §6.1, packages/gateway/README.md "Abuse").
import type { Redis } from 'ioredis';
import type { GatewayConfig } from './config.js';
import { SharedRateLimiter } from './guards.js';
import { SyncedRateLimiter } from './synced-rate-limiter.js';

/** Abuse budgets that hit the abuser only (per address, per address and username) and a global sign-up budget. */
export interface AuthBudgets {
  /** Logins per (address, username). */
  login: SharedRateLimiter;
  /** Logins per address. */
  loginAddress: SharedRateLimiter;
  /** Failed authentications (invalid or expired tokens, HTTP and IDENTIFY) per address. */
  authFailures: SharedRateLimiter;
  /** Sign-ups, all addresses together. */
  signup: SharedRateLimiter;
}

export interface Budgets {
  /** Requests per user, WebSocket and HTTP together: decided locally, synced with Redis every SYNC_MS. */
  userRate: SyncedRateLimiter;
  /** Unauthenticated HTTP requests per address. */
  ipRate: SharedRateLimiter;
  auth: AuthBudgets;
}

/** The budgets of a gateway whose Redis keys start with `keyPrefix`. */
export function createBudgets(redis: Redis, keyPrefix: string, config: GatewayConfig): Budgets {
  const budget = (prefix: string, requests: number) =>
    new SharedRateLimiter(redis, `${keyPrefix}${prefix}`, requests, config.rateWindowMs);
  return {
    userRate: new SyncedRateLimiter(redis, keyPrefix, config.userRateRequests, config.rateWindowMs),
    ipRate: budget('http:', config.httpRateRequests),
    auth: {
      login: budget('login:', config.loginRateRequests),
      loginAddress: budget('login-ip:', config.loginAddressRateRequests),
      authFailures: budget('auth-fail:', config.authFailureBudget),
      signup: budget('signup:', config.signupRateRequests),
    },
  };
}
