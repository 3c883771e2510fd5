// WebSocket opcodes (docs/protocol.md §5): the `op` of every frame.

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
export type Op = (typeof Op)[keyof typeof Op];
