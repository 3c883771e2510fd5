// A small, correct hand-written history: users A and B in channel C, A sends one message both see.
// Tests break one promise at a time and expect exactly that rule to fire.
import { CHAT_EPOCH_MS } from '@chat/client';
import type { ClientEvent, History } from '../../src/history.js';

export const T0 = Date.UTC(2026, 11, 2, 7, 0, 0);

/** The smallest snowflake of Unix millisecond `t` plus `seq`. */
export function idAt(t: number, seq = 0): string {
  return ((BigInt(t - CHAT_EPOCH_MS) << 22n) + BigInt(seq)).toString();
}

export const M1 = idAt(T0 + 11);

export function session(client: string, at: number, conn = 1): ClientEvent[] {
  return [
    { kind: 'state', at, client, state: 'open', code: null },
    { kind: 'ready', at, client, conn, gateway: 'gw0' },
  ];
}

export function copy(client: string, at: number, id: string, conn = 1, channel = 'C'): ClientEvent[] {
  return [
    { kind: 'dispatch', at, client, conn, gateway: 'gw0', event: 'MESSAGE_CREATE', channel, id, content: 'hello' },
    { kind: 'view', at, client, event: 'create', channel, id, content: 'hello' },
  ];
}

export function baseHistory(): History {
  return {
    users: { a: 'A', b: 'B' },
    members: { C: ['A', 'B'] },
    honest: ['a', 'b'],
    events: [
      ...session('a', T0),
      ...session('b', T0),
      { kind: 'send', at: T0 + 10, client: 'a', channel: 'C', nonce: 'n1', content: 'hello' },
      { kind: 'ack', at: T0 + 20, client: 'a', channel: 'C', nonce: 'n1', id: M1, gateway: 'gw0' },
      ...copy('a', T0 + 30, M1),
      ...copy('b', T0 + 31, M1),
    ],
    faults: [],
    exits: [],
    stored: [{ id: M1, channel: 'C', author: 'A', nonce: 'n1', content: 'hello', deleted: false }],
    stoppedAt: T0 + 1000,
    endedAt: T0 + 2000,
  };
}
