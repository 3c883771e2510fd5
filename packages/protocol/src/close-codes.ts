// WebSocket close codes (docs/protocol.md §5): one name, `CloseCode`, for the gateway and the client.

export const CloseCode = {
  NORMAL: 1000,
  /** The gateway is shutting down or draining: reconnect elsewhere and RESUME. */
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
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes that mean the client sent something wrong: report it, then start over with IDENTIFY. */
export const CLIENT_BUG_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.UNKNOWN_OPCODE,
  CloseCode.DECODE_ERROR,
  CloseCode.NOT_AUTHENTICATED,
  CloseCode.ALREADY_AUTHENTICATED,
  CloseCode.PAYLOAD_TOO_LARGE,
]);
