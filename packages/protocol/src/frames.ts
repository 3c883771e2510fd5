// WebSocket frames of docs/protocol.md §5: `{ op, d, s?, t? }` as JSON text, and the encoders the gateway
// writes with. A client frame needs only an integer `op`; a server frame also has an integer-or-null `s`
// and a string-or-null `t`, and a DISPATCH names its event in `t`. No I/O here.
import { ResponseError } from './errors.js';
import type { Infer } from './infer.js';
import { Op } from './opcodes.js';

/** A frame a client sends (the gateway reads `op`, then the payload its opcode defines). */
export const ClientFrame = {
  type: 'object',
  properties: { op: { type: 'integer' }, d: {} },
  required: ['op'],
} as const;

/** A frame the gateway sends. */
export const ServerFrame = {
  type: 'object',
  properties: {
    op: { type: 'integer' },
    d: {},
    /** Per-connection sequence of a DISPATCH. */
    s: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
    /** Event name of a DISPATCH. */
    t: { anyOf: [{ type: 'string' }, { type: 'null' }] },
  },
  required: ['op'],
  if: { properties: { op: { const: Op.DISPATCH } } },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
  then: { required: ['t'], properties: { t: { type: 'string' } } },
} as const;

export interface Frame {
  op: number;
  d?: unknown;
  s?: number | null;
  t?: string | null;
}

/** A RESPONSE (op 21) payload as sent. */
export const ResponsePayload = {
  anyOf: [
    {
      type: 'object',
      properties: { id: { type: 'string' }, ok: { const: true }, result: {} },
      required: ['id', 'ok'],
    },
    {
      type: 'object',
      properties: { id: { type: 'string' }, ok: { const: false }, error: ResponseError },
      required: ['id', 'ok', 'error'],
    },
  ],
} as const;
export type ResponsePayload = Infer<typeof ResponsePayload>;

/** Encodes a frame with an opcode and payload. */
export function frame(op: number, d: unknown): string {
  return JSON.stringify({ op, d });
}

/** A DISPATCH frame around an already serialised payload (serialised once per event, not per socket). */
export function dispatchFrame(t: string, s: number, payloadJson: string): string {
  return `{"op":${Op.DISPATCH},"t":"${t}","s":${s},"d":${payloadJson}}`;
}

/** A successful RESPONSE. */
export function response(id: string, result: unknown): string {
  return JSON.stringify({ op: Op.RESPONSE, d: { id, ok: true, result: result ?? null } });
}

/** A RESPONSE error; `retryAfterMs` (overloaded, rate_limited) becomes the error's `retry_after_ms`. */
export function errorResponse(id: string, code: string, message: string, retryAfterMs?: number): string {
  const error = retryAfterMs === undefined ? { code, message } : { code, message, retry_after_ms: retryAfterMs };
  return JSON.stringify({ op: Op.RESPONSE, d: { id, ok: false, error } });
}
