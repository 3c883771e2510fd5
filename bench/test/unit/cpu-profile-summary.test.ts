// tools/cpu-profile-summary.ts: self and inclusive time, the per-second timeline, and the --from/--to window,
// on a hand-made V8 profile whose answers are known.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Profile, packageOf, summarise } from '../../tools/cpu-profile-summary.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
const gateway = 'file:///repo/packages/gateway/src/hub.ts';
const amqp = 'file:///repo/node_modules/amqplib/lib/channel.js';

// (root) → outer (gateway) → inner (amqplib); (root) → (idle). Samples 0.5 s apart: outer, inner, inner,
// idle, inner, outer — at 0.5, 1.0, 1.5, 2.0, 2.5 and 3.0 s after the start.
const profile: Profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 4] },
    { id: 2, callFrame: frame('outer', gateway), children: [3] },
    { id: 3, callFrame: frame('inner', amqp) },
    { id: 4, callFrame: frame('(idle)') },
  ],
  samples: [2, 3, 3, 4, 3, 2],
  timeDeltas: [500_000, 500_000, 500_000, 500_000, 500_000, 500_000],
};

const ms = (m: Map<string, number>, prefix: string) =>
  [...m].filter(([k]) => k.startsWith(prefix)).reduce((n, [, us]) => n + us / 1000, 0);

test('packageOf names workspace packages, node_modules packages and native frames', () => {
  assert.equal(packageOf(gateway, 'outer'), '@chat/gateway');
  assert.equal(packageOf(amqp, 'inner'), 'amqplib');
  assert.equal(packageOf('file:///r/node_modules/@scope/pkg/x.js', 'f'), '@scope/pkg');
  assert.equal(packageOf('', 'writev'), '(native)');
  assert.equal(packageOf('', '(garbage collector)'), '(garbage collector)');
});

test('the whole profile: self time, inclusive time, idle apart', () => {
  const s = summarise([profile]);
  assert.equal(s.busyUs, 2_500_000);
  assert.equal(s.idleUs, 500_000);
  assert.equal(ms(s.byFunction, 'outer'), 1000);
  assert.equal(ms(s.byFunction, 'inner'), 1500);
  assert.equal(s.byPackage.get('@chat/gateway'), 1_000_000);
  assert.equal(s.byPackage.get('amqplib'), 1_500_000);
  // outer is on the stack of every busy sample; (root) too.
  assert.equal(ms(s.inclusive, 'outer'), 2500);
  assert.equal(ms(s.inclusive, '(root)'), 2500);
  assert.equal(ms(s.inclusive, 'inner'), 1500);
});

test('the timeline counts busy time per whole second since the start', () => {
  const s = summarise([profile]);
  // 0.5 s → second 0; 1.0, 1.5 → 1; 2.0 is idle, 2.5 → 2; 3.0 → 3.
  assert.deepEqual(
    [...s.perSecond].sort((a, b) => a[0] - b[0]),
    [
      [0, 500_000],
      [1, 1_000_000],
      [2, 500_000],
      [3, 500_000],
    ],
  );
});

test('--from/--to keep the samples of those seconds only', () => {
  const s = summarise([profile], { fromS: 1, toS: 2.5 });
  assert.equal(s.busyUs, 1_000_000, 'the two inner samples at 1.0 and 1.5 s; 2.5 s is outside');
  assert.equal(ms(s.byFunction, 'inner'), 1000);
  assert.equal(ms(s.byFunction, 'outer'), 0);
  assert.equal(s.perSecond.size, 4, 'the timeline still covers the whole profile');
});

test('profiles of one process add up', () => {
  const s = summarise([profile, profile], { fromS: 3 });
  assert.equal(s.busyUs, 1_000_000);
  assert.equal(ms(s.byFunction, 'outer'), 1000);
});
