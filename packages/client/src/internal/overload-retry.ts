// Retrying a request the server shed (`overloaded`: WebSocket RESPONSE error or HTTP 503). Such a
// request was refused before anything was done — not stored, not half-done — so sending the very
// same request again (same params, so a message.create keeps its nonce) is always safe. A request
// the server deduplicates by its nonce (a message.create or POST …/messages with a nonce) is also
// retried after `unavailable` (a dependency down; it may or may not have been stored): the same nonce
// makes the retry return the first message instead of storing a second one (docs/protocol.md §5.4). The wait
// honours the server's hint (`retry_after_ms`, `Retry-After`) as a floor, grows exponentially
// otherwise, and adds jitter on top so that clients refused together do not come back together.
// Attempts are bounded, and so is the total time (the request's own deadline).

export interface OverloadRetryOptions {
  /** Retries after the first attempt; 0 disables retrying. */
  maxRetries: number;
  /** Delay of the first retry when the server gives no hint, doubled per retry. */
  initialDelayMs: number;
  /** Cap of the grown delay (a larger server hint still wins). */
  maxDelayMs: number;
}

/** Jitter: each delay is drawn from [floor, floor × (1 + JITTER)]. */
const JITTER = 0.5;

/**
 * The error's retry hint in ms when the request may be sent again: an `overloaded` refusal, or
 * `unavailable` for a request the server deduplicates by its nonce (`deduplicated`); else null.
 */
export function overloadHintMs(err: unknown, deduplicated = false): number | null {
  const e = err as { code?: unknown; retryAfterMs?: unknown; retryAfter?: unknown } | null;
  if (e?.code !== 'overloaded' && !(deduplicated && e?.code === 'unavailable')) return null;
  if (typeof e.retryAfterMs === 'number') return e.retryAfterMs;
  if (typeof e.retryAfter === 'number') return e.retryAfter * 1000;
  return 0;
}

/** The wait before retry `retry` (0 for the first). `random` returns [0, 1). */
export function overloadDelay(
  retry: number,
  hintMs: number,
  o: OverloadRetryOptions,
  random: () => number = Math.random,
): number {
  const grown = Math.min(o.maxDelayMs, o.initialDelayMs * 2 ** Math.min(Math.max(0, retry), 30));
  const floor = Math.max(hintMs, grown);
  return Math.round(floor * (1 + JITTER * random()));
}

/** True when `body` carries a nonce (a string), by which the server deduplicates a message.create. */
export function carriesNonce(body: unknown): boolean {
  return typeof (body as { nonce?: unknown } | null)?.nonce === 'string';
}

/**
 * Runs `attempt` until it does not fail with a refusal that overloadHintMs(err, deduplicated) calls
 * retryable, at most `maxRetries` more times and never past `deadline` (epoch ms): then the last
 * refusal is thrown. `keepGoing` is asked before each retry (false when the client was closed meanwhile).
 */
export async function retryOverloaded<T>(
  attempt: () => Promise<T>,
  o: OverloadRetryOptions,
  deadline: number,
  keepGoing: () => boolean = () => true,
  onRetry?: (retry: number, delayMs: number) => void,
  deduplicated = false,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (err) {
      const hint = overloadHintMs(err, deduplicated);
      if (hint === null || retry >= o.maxRetries) throw err;
      const delay = overloadDelay(retry, hint, o);
      if (Date.now() + delay >= deadline || !keepGoing()) throw err;
      onRetry?.(retry, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (!keepGoing()) throw err;
    }
  }
}
