// The seed servers keep their own copy of the protocol's opcodes and close codes (bench/baselines/seeds/
// wire.ts, so that a baseline process does not load the whole gateway); this keeps the copy true.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Close as GatewayClose, Op as GatewayOp } from '@chat/gateway';
import { Close, Op } from '../../baselines/seeds/wire.js';

test("the seed servers' opcodes and close codes are the gateway's", () => {
  for (const [name, value] of Object.entries(Op)) {
    assert.equal(value, GatewayOp[name as keyof typeof GatewayOp], `Op.${name}`);
  }
  for (const [name, value] of Object.entries(Close)) {
    assert.equal(value, GatewayClose[name as keyof typeof GatewayClose], `Close.${name}`);
  }
});
