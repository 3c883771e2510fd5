import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DispatchEnvelope, makeSnowflake } from '@chat/router';
import { endToEnd } from '../../src/end-to-end-latency.js';

const at = (ms: number) => makeSnowflake(ms, 7, 3).toString();
const create = (id: unknown): DispatchEnvelope => ({
  v: 1,
  type: 'dispatch',
  event: 'MESSAGE_CREATE',
  channel_id: '1',
  data: { id, channel_id: '1' },
});

describe('end-to-end latency from the message id', () => {
  const sent = Date.UTC(2026, 11, 2, 4, 0, 0);

  it('is the time since the id was minted, in seconds', () => {
    assert.equal(endToEnd(create(at(sent)), sent + 1234)?.seconds, 1.234);
    assert.equal(endToEnd(create(at(sent)), sent)?.seconds, 0);
  });

  it('counts a sender clock ahead of this gateway as 0, never negative', () => {
    assert.equal(endToEnd(create(at(sent + 500)), sent)?.seconds, 0);
  });

  it('ignores other events and ids that are not snowflakes', () => {
    const update: DispatchEnvelope = { ...create(at(sent)), event: 'MESSAGE_UPDATE' };
    assert.equal(endToEnd(update, sent + 10)?.seconds, undefined);
    assert.equal(endToEnd(create('abc'), sent + 10)?.seconds, undefined);
    assert.equal(endToEnd(create(42), sent + 10)?.seconds, undefined);
    assert.equal(endToEnd({ ...create(at(sent)), data: null }, sent + 10)?.seconds, undefined);
  });
});
