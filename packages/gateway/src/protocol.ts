// The WebSocket wire format of docs/protocol.md §5: opcodes, close codes, frames. No I/O here.

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

export const Close = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
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

export interface Frame {
  op: number;
  d?: unknown;
  s?: number;
  t?: string;
}

/** Parses a text frame; the reason when it is not a frame. */
export function parseFrame(text: string): Frame | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'invalid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'a frame is a JSON object' };
  const op = (value as { op?: unknown }).op;
  if (typeof op !== 'number' || !Number.isInteger(op)) return { error: '"op" must be an integer' };
  return value as Frame;
}

export function frame(op: number, d: unknown): string {
  return JSON.stringify({ op, d });
}

/** A DISPATCH frame around an already serialised payload (serialised once per event, not per socket). */
export function dispatchFrame(t: string, s: number, payloadJson: string): string {
  return `{"op":0,"t":"${t}","s":${s},"d":${payloadJson}}`;
}

export function response(id: string, result: unknown): string {
  return JSON.stringify({ op: Op.RESPONSE, d: { id, ok: true, result: result ?? null } });
}

/** A RESPONSE error; `retryAfterMs` (overloaded, rate_limited) becomes the error's `retry_after_ms`. */
export function errorResponse(id: string, code: string, message: string, retryAfterMs?: number): string {
  const error = retryAfterMs === undefined ? { code, message } : { code, message, retry_after_ms: retryAfterMs };
  return JSON.stringify({ op: Op.RESPONSE, d: { id, ok: false, error } });
}

/** Events that may be skipped for a slow socket (ephemeral, at most once). */
export const EPHEMERAL_EVENTS: ReadonlySet<string> = new Set(['TYPING_START', 'PRESENCE_UPDATE']);
