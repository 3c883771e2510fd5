// In-memory stand-ins for the ports of the persister's modules (deliveries, the retry policy, the
// dead-letter call), and durable writes to feed them. The integration tests cover the real broker.
import type { DurableDelivery, DurableWrite } from '@chat/router';
import type { DeadLetter } from '../../src/dead-letter.js';
import { createRetry } from '../../src/retry.js';
import type { WriteItem } from '../../src/store-writes.js';
import { type ValidWrite, validateWrite } from '../../src/validate.js';

export const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A delivery recording what was done with it. */
export type FakeDelivery = DurableDelivery & { outcome: 'pending' | 'acked' | 'requeued' | `dead: ${string}` };

export function delivery(envelope: DurableWrite, redelivered = false): FakeDelivery {
  const d: FakeDelivery = {
    envelope,
    deliveryCount: redelivered ? 1 : 0,
    redelivered,
    outcome: 'pending',
    ack() {
      d.outcome = 'acked';
    },
    requeue() {
      d.outcome = 'requeued';
    },
    async deadLetter(reason) {
      d.outcome = `dead: ${reason}`;
    },
  };
  return d;
}

let next = 1_000_000_000_000_000n;
/** A fresh snowflake, increasing. */
export const snowflake = () => String(next++);

export function create(channel: string, content = 'hello', id = snowflake()): DurableWrite {
  return {
    v: 1,
    type: 'message.create',
    id,
    channel_id: channel,
    author: { id: 'u1', username: 'ann' },
    content,
    timestamp: '2026-01-01T00:00:00.000Z',
  };
}

export function edit(channel: string, messageId: string, content: string): DurableWrite {
  return {
    v: 1,
    type: 'message.update',
    id: snowflake(),
    message_id: messageId,
    channel_id: channel,
    author_id: 'u1',
    content,
  };
}

export function remove(channel: string, messageId: string): DurableWrite {
  return { v: 1, type: 'message.delete', id: snowflake(), message_id: messageId, channel_id: channel, author_id: 'u1' };
}

/** A delivery with its validated write (the shape store writes and dispatch take). */
export function item(envelope: DurableWrite): WriteItem & { delivery: FakeDelivery } {
  const write = validateWrite(envelope, 4000);
  if ('reason' in write) throw new Error(`test write is invalid: ${write.reason}`);
  return { delivery: delivery(envelope), write: write as ValidWrite };
}

/** The retry policy with pauses recorded instead of slept, and retries counted by stage. */
export function instantRetry() {
  const pauses: number[] = [];
  const retries: string[] = [];
  const retry = createRetry({
    minMs: 100,
    maxMs: 5000,
    logger: silent,
    onRetry: (stage) => void retries.push(stage),
    sleep: async (ms) => void pauses.push(ms),
  });
  return { retry, pauses, retries };
}

/** Dead-letters by telling the delivery (as the router does), recording the reasons. */
export function recordingDeadLetter(): DeadLetter & { reasons: string[] } {
  const reasons: string[] = [];
  const dl = async (d: DurableDelivery, reason: string) => {
    reasons.push(reason);
    await d.deadLetter(reason);
  };
  return Object.assign(dl, { reasons });
}

/** An error MongoDB would repeat forever (document validation failure). */
export const permanent = (message = 'Document failed validation') => Object.assign(new Error(message), { code: 121 });
