// The envelopes of docs/protocol.md §3 (defined in @chat/protocol) as the router checks them: what may be
// published and what a consumer accepts, with the reason a refused one is dead-lettered or thrown with.
// Validation is structural (the routing fields); content rules belong to the persister.
import { dispatchEnvelope, durableWriteHeader, type Failure } from '@chat/protocol';

export {
  Author,
  DISPATCH_EVENTS,
  DispatchEnvelope,
  type DispatchEvent,
  DURABLE_WRITE_TYPES,
  type DurableWrite,
  type DurableWriteType,
  isSnowflake,
  MessageCreateWrite,
  MessageDeleteWrite,
  MessageUpdateWrite,
  PROTOCOL_VERSION,
} from '@chat/protocol';

const DISPATCH_REASONS: Record<string, string> = {
  v: 'unsupported_version',
  type: 'unknown_type',
  event: 'unknown_event',
  channel_id: 'invalid_channel_id',
  to: 'invalid_to',
  data: 'missing_data',
};

const WRITE_REASONS: Record<string, string> = {
  v: 'unsupported_version',
  type: 'unknown_type',
  id: 'invalid_id',
  channel_id: 'invalid_channel_id',
  message_id: 'invalid_message_id',
};

function reason(f: Failure, reasons: Record<string, string>): string {
  if (f.kind === 'not_an_object') return 'not_an_object';
  if (f.kind === 'no_match') return 'no_audience';
  return reasons[f.field] ?? 'invalid_envelope';
}

/** Why a dispatch envelope is not acceptable, or undefined when it is. */
export function dispatchProblem(value: unknown): string | undefined {
  if (dispatchEnvelope.is(value)) return undefined;
  return reason(dispatchEnvelope.failure(value)!, DISPATCH_REASONS);
}

/** Why a durable write is not acceptable to publish, or undefined when it is. */
export function durableWriteProblem(value: unknown): string | undefined {
  if (durableWriteHeader.is(value)) return undefined;
  return reason(durableWriteHeader.failure(value)!, WRITE_REASONS);
}
