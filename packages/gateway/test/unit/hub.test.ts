import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DispatchEnvelope } from '@chat/router';
import { Registry } from 'prom-client';
import { WriteAdmission } from '../../src/admission.js';
import { Hub } from '../../src/hub.js';
import type { Member } from '../../src/local-index.js';
import { createMetrics } from '../../src/metrics.js';

class Sock implements Member {
  readonly got: Array<[string, string, string | undefined]> = [];
  constructor(readonly userId: string) {}
  deliver(event: string, payloadJson: string, key: string | undefined): void {
    this.got.push([event, payloadJson, key]);
  }
}

function hub(announced: unknown[] = []): Hub {
  return new Hub({
    router: {
      dispatch: async (env, target, options) => {
        announced.push([env, target, options]);
        return 1;
      },
    },
    metrics: createMetrics(new Registry(), () => 0),
    admission: new WriteAdmission({ maxInFlight: 10, maxPerConnection: 10, retryAfterMs: 1000 }),
    workerId: 1,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
}

const env = (e: Partial<DispatchEnvelope>): DispatchEnvelope =>
  ({ v: 1, type: 'dispatch', event: 'MESSAGE_CREATE', data: null, ...e }) as DispatchEnvelope;

describe('hub (local fan-out)', () => {
  it("delivers a channel's envelope to every local socket of its members, serialised once with its key", () => {
    const h = hub();
    const [a1, a2, b, c] = [new Sock('a'), new Sock('a'), new Sock('b'), new Sock('c')];
    h.index.add(a1, ['10']);
    h.index.add(a2, ['10']);
    h.index.add(b, ['10']);
    h.index.add(c, ['11']);
    h.deliver(env({ channel_id: '10', data: { id: '5', channel_id: '10' } }));
    for (const s of [a1, a2, b]) assert.deepEqual(s.got, [['MESSAGE_CREATE', '{"id":"5","channel_id":"10"}', 'c:5']]);
    assert.deepEqual(c.got, []);
  });

  it('delivers a `to` envelope to those users only, whatever its channel', () => {
    const h = hub();
    const [a, b] = [new Sock('a'), new Sock('b')];
    h.index.add(a, ['10']);
    h.index.add(b, ['10']);
    h.deliver(env({ event: 'PRESENCE_UPDATE', to: ['b'], channel_id: '10', data: { user_id: 'a' } }));
    assert.deepEqual(a.got, []);
    assert.deepEqual(
      b.got.map((g) => g[0]),
      ['PRESENCE_UPDATE'],
    );
  });

  it('applies membership events to the index before delivering them', () => {
    const h = hub();
    const [a, b] = [new Sock('a'), new Sock('b')];
    h.index.add(a, ['10']);
    h.index.add(b, []);
    h.deliver(env({ event: 'CHANNEL_MEMBER_ADD', to: ['b'], data: { channel_id: '10', user_id: 'b' } }));
    assert.deepEqual(
      b.got.map((g) => g[0]),
      ['CHANNEL_MEMBER_ADD'],
    );
    h.deliver(env({ channel_id: '10', data: { id: '6' } }));
    assert.deepEqual(
      b.got.map((g) => g[0]),
      ['CHANNEL_MEMBER_ADD', 'MESSAGE_CREATE'],
      'b hears the channel now',
    );
    h.deliver(env({ event: 'CHANNEL_MEMBER_REMOVE', to: ['a'], data: { channel_id: '10', user_id: 'a' } }));
    h.deliver(env({ channel_id: '10', data: { id: '7' } }));
    assert.deepEqual(
      a.got.map((g) => g[0]),
      ['MESSAGE_CREATE', 'CHANNEL_MEMBER_REMOVE'],
      'a no longer hears it',
    );
    h.deliver(env({ event: 'CHANNEL_CREATE', to: ['a', 'b'], data: { id: '12', member_ids: ['a', 'b'] } }));
    assert.deepEqual(h.index.channelsOfUser('a'), ['12']);
  });

  it('announces a membership change to its users with a confirmed dispatch', async () => {
    const announced: unknown[] = [];
    await hub(announced).announce('CHANNEL_MEMBER_ADD', ['a'], { channel_id: '10', user_id: 'a' });
    assert.deepEqual(announced, [
      [
        { v: 1, type: 'dispatch', event: 'CHANNEL_MEMBER_ADD', to: ['a'], data: { channel_id: '10', user_id: 'a' } },
        { users: ['a'] },
        { confirm: true },
      ],
    ]);
  });
});
