import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  dispatchToMembers,
  InvalidArgumentError,
  partitionOf,
  resolveRouterOptions,
  slotOf,
  topologyNames,
} from '@chat/router';
import { RoutingKeys } from '../../src/internal/routing-keys.js';

const names = topologyNames('chat', 16);
const bySlot = new RoutingKeys(resolveRouterOptions(), names);
const byUser = new RoutingKeys(resolveRouterOptions({ granularity: 'user' }), names);

describe('routing keys', () => {
  it('a user binds its slot key or its user key, carried by its slot partition route exchange', () => {
    const slot = slotOf('alice', 1024);
    assert.equal(bySlot.keyOf('alice'), `s.${slot}`);
    assert.equal(byUser.keyOf('alice'), 'u.alice');
    const exchange = `chat.route.${partitionOf(slot, 16)}`;
    assert.equal(bySlot.exchangeOfKey(bySlot.keyOf('alice')), exchange);
    assert.equal(byUser.exchangeOfKey(byUser.keyOf('alice')), exchange);
  });

  it('refuses user ids that cannot be a key, and in user granularity ids that would be topic wildcards', () => {
    for (const bad of ['', 'x'.repeat(129), 5 as unknown as string]) {
      assert.throws(() => bySlot.checkedKey(bad), InvalidArgumentError);
    }
    assert.equal(bySlot.checkedKey('a.b'), bySlot.keyOf('a.b'));
    for (const bad of ['a.b', 'a*', '#']) assert.throws(() => byUser.checkedKey(bad), /must not contain/);
  });

  it('a target names distinct keys; slots only in slot granularity and in range', () => {
    const keys = bySlot.keysOf({ users: ['alice', 'alice'], slots: [slotOf('alice', 1024), 3] });
    assert.deepEqual([...keys], [bySlot.keyOf('alice'), 's.3']);
    assert.throws(() => bySlot.keysOf({ slots: [1024] }), /slot out of range/);
    assert.throws(() => bySlot.keysOf({ slots: [-1] }), /slot out of range/);
    assert.throws(() => byUser.keysOf({ slots: [1] }), /needs slot granularity/);
    assert.equal(bySlot.keysOf({}).size, 0);
  });

  it('slot keys go as one publish to the front exchange; user keys as one publish per partition', () => {
    assert.deepEqual(bySlot.routes(['s.1', 's.17', 's.2']), [{ exchange: 'chat.route', keys: ['s.1', 's.17', 's.2'] }]);
    const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
    const routes = byUser.routes(users.map((u) => `u.${u}`));
    const routed = routes.flatMap((r) => r.keys).sort();
    assert.deepEqual(routed, users.map((u) => `u.${u}`).sort(), 'every key exactly once');
    for (const { exchange, keys } of routes) {
      for (const key of keys) assert.equal(byUser.exchangeOfKey(key), exchange);
    }
    assert.equal(new Set(routes.map((r) => r.exchange)).size, routes.length, 'one publish per partition');
  });

  it('dispatchToMembers reaches a channel by its slots or by its member ids, as the granularity says', () => {
    const membership = { members: ['alice', 'bob'], slots: [slotOf('alice', 1024), slotOf('bob', 1024)] };
    assert.deepEqual(dispatchToMembers(resolveRouterOptions(), membership), { slots: membership.slots });
    assert.deepEqual(dispatchToMembers(resolveRouterOptions({ granularity: 'user' }), membership), {
      users: membership.members,
    });
    // Either way the target names the keys the members' gateways bind.
    const viaSlots = bySlot.keysOf(dispatchToMembers({ granularity: 'slot' }, membership));
    assert.deepEqual([...viaSlots].sort(), [...new Set(membership.members.map((m) => bySlot.keyOf(m)))].sort());
    const viaUsers = byUser.keysOf(dispatchToMembers({ granularity: 'user' }, membership));
    assert.deepEqual([...viaUsers].sort(), ['u.alice', 'u.bob']);
  });
});
