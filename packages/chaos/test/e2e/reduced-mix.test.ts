// CI's reduced mix of issue #13: the whole system (3 broker nodes, Redis, MongoDB, nginx, 3 gateways,
// 2 persisters) under a minute of seeded, mixed faults with a few honest and hostile clients; fails on
// any violation of the checker's rules, printing the first violating message's whole story.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScenario } from '../../src/run.js';
import { type Scenario, scenario } from '../../src/scenarios.js';

/**
 * The mix without the faults with known, open violations (packages/chaos/README.md, "Findings"):
 * none left since findings 1 (`redis-down`) and 4 (the broker-node losses) were fixed.
 */
const KNOWN_OPEN = new Set<string>([]);
const mix = scenario('mix');
const reduced: Scenario = { ...mix, plan: { ...mix.plan, faults: mix.plan.faults.filter((f) => !KNOWN_OPEN.has(f)) } };

describe('chaos: reduced mix', () => {
  it('a minute of mixed faults under load: zero violations', { timeout: 1_200_000 }, async () => {
    const run = await runScenario(reduced, {
      seed: 13,
      clients: 12,
      durationS: 60,
      log: (line) => console.log(line),
    });
    const { stats, violations, firstStory } = run.result;
    console.log(JSON.stringify(stats));
    assert.ok(stats.faults > 0, 'the nemesis injected faults');
    assert.ok(stats.acked > 0 && stats.delivered > 0, 'the workload ran');
    assert.deepEqual(
      violations.slice(0, 20).map((v) => `${v.rule} ${v.id ?? ''} ${v.client ?? ''}: ${v.detail}`),
      [],
      firstStory ?? '',
    );
  });
});
