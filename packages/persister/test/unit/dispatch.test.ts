import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DispatchEnvelope, DispatchTarget } from '@chat/router';
import type { Membership, Message } from '@chat/store';
import { createDispatch, type DispatchRouter } from '../../src/dispatch.js';
import { Turns } from '../../src/turns.js';
import type { ValidWrite } from '../../src/validate.js';
import { create, edit, instantRetry, item, remove, snowflake } from './fakes.js';

type Published = Array<{ envelope: DispatchEnvelope; target: DispatchTarget; id?: string }>;

/** A router recording each dispatchMany call; the first `failures` calls fail as a lost connection does. */
function recordingRouter(granularity: 'slot' | 'user', failures = 0) {
  const calls: Array<{ items: Published; confirm: boolean | undefined }> = [];
  const router: DispatchRouter = {
    options: { granularity },
    async dispatchMany(items, options) {
      if (failures-- > 0) throw Object.assign(new Error('connection lost'), { retryable: true });
      calls.push({ items: [...items], confirm: options?.confirm });
      return items.length;
    },
  };
  return { router, calls };
}

const memberships: Record<string, Membership> = {
  c1: { members: ['u1', 'u2'], slots: [3, 9] },
  c2: { members: ['u3'], slots: [4] },
};

function setup(granularity: 'slot' | 'user', stored: Record<string, Message> = {}, failures = 0) {
  const r = recordingRouter(granularity, failures);
  const retry = instantRetry();
  const dispatch = createDispatch({
    router: r.router,
    channels: { membershipMany: async (ids) => new Map([...ids].map((c) => [c, memberships[c]!])) },
    messages: { get: async (_c, id) => stored[id] ?? null },
    retry: retry.retry,
  });
  /** The batch's dispatch as batch.ts runs it: the audience read first, then the publish. */
  const run = (batch: readonly ValidWrite[], turn: ReturnType<typeof readyTurn>) =>
    dispatch.publish(batch, dispatch.readAudience(new Set(batch.map((w) => w.channel_id))), turn);
  return { ...r, run, retries: retry.retries };
}

const writes = (...envelopes: Parameters<typeof item>[0][]): ValidWrite[] => envelopes.map((e) => item(e).write);

function readyTurn() {
  return new Turns().next();
}

describe('dispatch', () => {
  it('publishes each event to its channel’s slots, confirmed, with the write’s id, in batch order', async () => {
    const s = setup('slot');
    const batch = writes(create('c1', 'one'), create('c2', 'two'), create('c1', 'three'));
    await s.run(batch, readyTurn());
    assert.equal(s.calls.length, 1);
    assert.equal(s.calls[0]!.confirm, true);
    const items = s.calls[0]!.items;
    assert.deepEqual(
      items.map((i) => [i.envelope.event, i.envelope.channel_id, (i.envelope.data as Message).content, i.target, i.id]),
      [
        ['MESSAGE_CREATE', 'c1', 'one', { slots: [3, 9] }, batch[0]!.id],
        ['MESSAGE_CREATE', 'c2', 'two', { slots: [4] }, batch[1]!.id],
        ['MESSAGE_CREATE', 'c1', 'three', { slots: [3, 9] }, batch[2]!.id],
      ],
    );
    assert.deepEqual(items[0]!.envelope.data, {
      id: batch[0]!.id,
      channel_id: 'c1',
      author: { id: 'u1', username: 'ann' },
      content: 'one',
      timestamp: '2026-01-01T00:00:00.000Z',
      edited_timestamp: null,
      nonce: null,
      type: 0,
    });
  });

  it('addresses users under user granularity', async () => {
    const s = setup('user');
    await s.run(writes(create('c1')), readyTurn());
    assert.deepEqual(s.calls[0]!.items[0]!.target, { users: ['u1', 'u2'] });
  });

  it('an edit delivers the stored state (nothing when the message is gone); a delete delivers its ids', async () => {
    const kept = snowflake();
    const gone = snowflake();
    const state: Message = {
      id: kept,
      channel_id: 'c1',
      author: { id: 'u1', username: 'ann' },
      content: 'newest',
      timestamp: '2026-01-01T00:00:00.000Z',
      edited_timestamp: '2026-01-01T00:01:00.000Z',
      nonce: null,
      type: 0,
    };
    const s = setup('slot', { [kept]: state });
    await s.run(writes(edit('c1', kept, 'older'), edit('c1', gone, 'x'), remove('c1', gone)), readyTurn());
    assert.deepEqual(
      s.calls[0]!.items.map((i) => [i.envelope.event, i.envelope.data]),
      [
        ['MESSAGE_UPDATE', state],
        ['MESSAGE_DELETE', { id: gone, channel_id: 'c1' }],
      ],
    );
  });

  it('publishes batches in turn order whatever order they are ready in', async () => {
    const s = setup('slot');
    const turns = new Turns();
    const first = turns.next();
    const second = turns.next();
    const a = writes(create('c1', 'first batch'));
    const b = writes(create('c2', 'second batch'));
    const later = s.run(b, second);
    await new Promise((r) => setImmediate(r));
    assert.equal(s.calls.length, 0, 'the second batch waits for the first one’s turn');
    await s.run(a, first);
    await later;
    assert.deepEqual(
      s.calls.map((c) => (c.items[0]!.envelope.data as Message).content),
      ['first batch', 'second batch'],
    );
  });

  it('re-publishes the whole batch after a transient router failure', async () => {
    const s = setup('slot', {}, 2);
    await s.run(writes(create('c1'), create('c2')), readyTurn());
    assert.deepEqual(s.retries, ['dispatch', 'dispatch']);
    assert.equal(s.calls.length, 1);
    assert.equal(s.calls[0]!.items.length, 2);
  });
});
