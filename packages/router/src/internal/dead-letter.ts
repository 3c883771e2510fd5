// Dead-lettering a durable write (docs/protocol.md §3): a write that must never reach the persister's
// handler (malformed, from a writer that is not accepted) or that the handler gives up on is
// republished, confirmed, to `<prefix>.dlx` → `<prefix>.persist.dead` with its reason in a header,
// and only then acked. This file decides what that message is; the durable consumer decides when.
import type { Delivery, DeliveryProperties } from './delivery.js';
import { WRITE_BUNDLE_TYPE } from './write-bundle.js';

/** Header of a dead-lettered write: why it was dead-lettered. */
export const DEAD_REASON_HEADER = 'x-chat-dead-reason';
/** On a dead-lettered write: the AMQP user that published it (its `user_id`). */
export const WRITER_HEADER = 'x-chat-writer';

/** The message to publish to the dead-letter exchange. */
export interface DeadLetter {
  content: Buffer;
  properties: DeliveryProperties & { persistent: true };
}

/**
 * The dead-letter message of one write: `json` is the whole delivery's body, or one record of a
 * write bundle (`value` is what it parsed to, if it did). The delivery's properties are kept, with
 * the reason and the writer as headers; `user_id` is dropped (the broker refuses a `user_id` other
 * than the publishing connection's). A bundle's record goes alone, typed and identified as a single
 * write would be.
 */
export function deadLetterOf(delivery: Delivery, json: string, value: unknown, reason: string): DeadLetter {
  const props = delivery.properties;
  const headers: Record<string, unknown> = { ...(props.headers ?? {}), [DEAD_REASON_HEADER]: reason };
  if (props.userId !== undefined) headers[WRITER_HEADER] = props.userId;
  const properties: DeadLetter['properties'] = { ...props, headers, persistent: true, userId: undefined };
  if (props.type !== WRITE_BUNDLE_TYPE) return { content: delivery.body, properties };
  const v = value as { type?: unknown; id?: unknown } | undefined;
  properties.type = typeof v?.type === 'string' ? v.type : undefined;
  properties.messageId = typeof v?.id === 'string' ? v.id : undefined;
  return { content: Buffer.from(json), properties };
}
