// The WebSocket frame format of docs/protocol.md §5: `{ op, d, s?, t? }` as JSON text. No I/O here.

export const Op = {
  DISPATCH: 0,
  HEARTBEAT: 1,
  IDENTIFY: 2,
  RESUME: 6,
  RECONNECT: 7,
  INVALID_SESSION: 9,
  HELLO: 10,
  HEARTBEAT_ACK: 11,
  REQUEST: 20,
  RESPONSE: 21,
} as const;

export const CloseCode = {
  NORMAL: 1000,
  UNKNOWN_ERROR: 4000,
  UNKNOWN_OPCODE: 4001,
  DECODE_ERROR: 4002,
  NOT_AUTHENTICATED: 4003,
  AUTHENTICATION_FAILED: 4004,
  ALREADY_AUTHENTICATED: 4005,
  RATE_LIMITED: 4008,
  SESSION_TIMED_OUT: 4009,
  PAYLOAD_TOO_LARGE: 4010,
} as const;

/** Close codes that mean the client sent something wrong: report it, then start over with IDENTIFY. */
export const CLIENT_BUG_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.UNKNOWN_OPCODE,
  CloseCode.DECODE_ERROR,
  CloseCode.NOT_AUTHENTICATED,
  CloseCode.ALREADY_AUTHENTICATED,
  CloseCode.PAYLOAD_TOO_LARGE,
]);

export interface Frame {
  op: number;
  d?: unknown;
  /** Per-connection sequence of a DISPATCH. */
  s?: number | null;
  /** Event name of a DISPATCH. */
  t?: string | null;
}

/** A RESPONSE (op 21) payload. */
export type ResponsePayload =
  | { id: string; ok: true; result?: unknown }
  | { id: string; ok: false; error: { code: string; message: string; retryAfterMs?: number } };

/** Parses a text frame; `{ error }` says why it is not one. */
export function parseFrame(text: string): Frame | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'invalid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'a frame is a JSON object' };
  const f = value as Record<string, unknown>;
  if (typeof f.op !== 'number' || !Number.isInteger(f.op)) return { error: '"op" must be an integer' };
  if (f.s !== undefined && f.s !== null && (typeof f.s !== 'number' || !Number.isInteger(f.s)))
    return { error: '"s" must be an integer or null' };
  if (f.t !== undefined && f.t !== null && typeof f.t !== 'string') return { error: '"t" must be a string or null' };
  if (f.op === Op.DISPATCH && typeof f.t !== 'string') return { error: 'a DISPATCH needs "t"' };
  return f as unknown as Frame;
}

/** Checks a RESPONSE payload; null when it is malformed. */
export function parseResponse(d: unknown): ResponsePayload | null {
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

export function encodeFrame(op: number, d: unknown): string {
  return JSON.stringify({ op, d });
}
