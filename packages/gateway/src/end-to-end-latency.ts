// End-to-end latency of messages as a gateway sees them: from the durable write being published to
// the persist queue until its MESSAGE_CREATE dispatch reaches this gateway's consumer. It reads the
// time the write was made from the message id — a snowflake minted just before the durable write is
// published — so nothing is added to the envelope.
import { type DispatchEnvelope, isSnowflake, parseSnowflake } from '@chat/protocol';

/**
 * The message id and seconds from the publish of the durable write behind `env` to `nowMs`, and the snowflake worker that
 * minted its id (a gateway's own writes carry its worker id); undefined when `env` is not a
 * MESSAGE_CREATE dispatch carrying a snowflake id. Never negative: a sender whose clock runs ahead of
 * this gateway's (ids minted on another machine) counts as 0.
 */
export function endToEnd(
  env: DispatchEnvelope,
  nowMs: number,
): { id: string; seconds: number; workerId: number } | undefined {
  if (env.event !== 'MESSAGE_CREATE') return undefined;
  const id = (env.data as { id?: unknown } | null)?.id;
  if (!isSnowflake(id)) return undefined;
  const parts = parseSnowflake(id);
  return { id, seconds: Math.max(0, nowMs - parts.timestampMs) / 1000, workerId: parts.workerId };
}
