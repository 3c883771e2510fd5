// The opcodes and close codes of docs/protocol.md §5 that the seed servers use. The gateway's table
// (packages/gateway/src/protocol.ts) is not imported because `@chat/gateway` loads the whole gateway
// (MongoDB driver, metrics…): start-up time and memory in every baseline process measured.
// bench/test/unit/seeds-wire.test.ts keeps this copy equal to the gateway's.

export const Op = {
  DISPATCH: 0,
  HEARTBEAT: 1,
  IDENTIFY: 2,
  RESUME: 6,
  INVALID_SESSION: 9,
  HELLO: 10,
  HEARTBEAT_ACK: 11,
  REQUEST: 20,
  RESPONSE: 21,
} as const;

export const Close = {
  GOING_AWAY: 1001,
  UNKNOWN_ERROR: 4000,
  UNKNOWN_OPCODE: 4001,
  DECODE_ERROR: 4002,
  NOT_AUTHENTICATED: 4003,
  AUTHENTICATION_FAILED: 4004,
  ALREADY_AUTHENTICATED: 4005,
  SESSION_TIMED_OUT: 4009,
} as const;
