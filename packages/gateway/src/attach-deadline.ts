// How long an IDENTIFY/RESUME waits for its attach (the user's key bound on this gateway's queue).
// In a reconnect storm the binds queue up behind each other (W4: ~350 keys per gateway, a few binding
// channels, each one RPC at a time): an attach that has waited `timeoutMs` while the router kept
// completing binding operations is in a queue that moves, and closing it (4000) only makes its client
// come back to the same queue after a backoff (bench/results/w4-profile-2026-12-02.md). So the wait is extended by `timeoutMs` at a time while the router made progress within the
// last `timeoutMs`, and never beyond `maxMs` in all; without progress (broker away or stalled) it ends
// at `timeoutMs` as before.

export interface AttachDeadline {
  /** Wait this long; then again as long while the router makes progress. */
  timeoutMs: number;
  /** Never wait longer than this in all. */
  maxMs: number;
  /** Date.now() of the router's last completed binding operation (0: none); absent: no extension. */
  progressAt?: (() => number) | undefined;
}

/** `attach` as is, or rejected once the deadline (above) has passed. */
export function attachWithin<T>(attach: Promise<T>, d: AttachDeadline): Promise<T> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    const check = () => {
      const now = Date.now();
      const waited = now - started;
      const moving = d.progressAt !== undefined && now - d.progressAt() < d.timeoutMs;
      if (moving && waited < d.maxMs) {
        timer = setTimeout(check, Math.min(d.timeoutMs, d.maxMs - waited));
        return;
      }
      reject(new Error(`attach took longer than ${waited} ms${moving ? '' : ' with no binding progress'}`));
    };
    timer = setTimeout(check, Math.min(d.timeoutMs, d.maxMs));
  });
  return Promise.race([attach, expired]).finally(() => clearTimeout(timer));
}
