// Reconnect delays: exponential growth from `initialDelayMs`, capped at `maxDelayMs`, with jitter
// taken off the top so that clients dropped together (a gateway drained or killed) spread out
// instead of returning in lockstep, and the cap is never exceeded.

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /** 0..1: the delay is drawn uniformly from [base × (1 − jitter), base]. */
  jitter: number;
}

/** The delay before reconnect attempt `attempt` (0 for the first). `random` returns [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(Math.max(0, attempt), 30); // 2^30 × anything already exceeds any cap
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** exp);
  return Math.round(base * (1 - options.jitter * random()));
}
