// Reading frames off a socket: JSON text → a checked Frame, or the reason it is not one (the gateway
// closes with DECODE_ERROR; the client reports a protocol error). Also the client's reading of a RESPONSE.
import type { Frame } from './frames.js';
import { Op } from './opcodes.js';
import { clientFrame, serverFrame, type Validator } from './validators.js';

function parse(text: string, v: Validator<Frame>): Frame | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'invalid JSON' };
  }
  const failure = v.failure(value);
  if (!failure) return value as Frame;
  if (failure.kind === 'not_an_object') return { error: 'a frame is a JSON object' };
  const f = value as Record<string, unknown>;
  if (failure.field === 'op') return { error: '"op" must be an integer' };
  if (failure.field === 's') return { error: '"s" must be an integer or null' };
  if (f.op === Op.DISPATCH && (f.t === undefined || f.t === null)) return { error: 'a DISPATCH needs "t"' };
  return { error: '"t" must be a string or null' };
}

/** A frame from a client: a JSON object with an integer `op`. */
export function parseClientFrame(text: string): Frame | { error: string } {
  return parse(text, clientFrame);
}

/** A frame from the gateway: also `s` an integer or null, `t` a string or null, and a DISPATCH has `t`. */
export function parseServerFrame(text: string): Frame | { error: string } {
  return parse(text, serverFrame);
}

/** A RESPONSE payload as the client reads it. */
export type ResponseReading =
  | { id: string; ok: true; result?: unknown }
  | { id: string; ok: false; error: { code: string; message: string; retryAfterMs?: number } };

/** Reads a RESPONSE payload leniently (a missing code or message gets a default); null without id/ok. */
export function readResponse(d: unknown): ResponseReading | null {
  if (typeof d !== 'object' || d === null) return null;
  const r = d as Record<string, unknown>;
  if (typeof r.id !== 'string' || typeof r.ok !== 'boolean') return null;
  if (r.ok) return { id: r.id, ok: true, result: r.result };
  const e = (typeof r.error === 'object' && r.error !== null ? r.error : {}) as Record<string, unknown>;
  return {
    id: r.id,
    ok: false,
    error: {
      code: typeof e.code === 'string' ? e.code : 'unknown',
      message: typeof e.message === 'string' ? e.message : 'request failed',
      ...(typeof e.retry_after_ms === 'number' && e.retry_after_ms >= 0 ? { retryAfterMs: e.retry_after_ms } : {}),
    },
  };
}
