import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check } from '../../src/checker.js';
import { renderReport } from '../../src/report.js';
import { scenario } from '../../src/scenarios.js';
import { baseHistory, T0 } from './fixture.js';

const options = { seed: 3, clients: 2, durationS: 1 };

describe('renderReport', () => {
  it('a clean run: the totals, one line per fault with its goal, and the verdict', () => {
    const history = baseHistory();
    history.faults.push({
      name: 'gateway-sigkill',
      target: 'gw1',
      component: 'gateway',
      start: T0 + 15,
      end: T0 + 900,
      recoverFrom: T0 + 15,
    });
    const md = renderReport(scenario('gateway-kill'), options, { history, result: check(history), hostile: null });
    assert.match(md, /scenario -- gateway-kill --seed 3 --clients 2 --duration 1/);
    assert.match(md, /\| 1 \| 1 \| 1 \| 0 \| 0 \| 1 \| 2 \| 0 \| 0 \| 0 \| 0 \| 0 \|/);
    assert.match(md, /\| gateway-sigkill \| gw1 \| 0\.9 s \| 0\.0 s \| .* \| < 5\.0 s \|/);
    assert.match(md, /\*\*Zero violations\.\*\*/);
  });

  it('a run with violations: counts by rule and the first story', () => {
    const history = baseHistory();
    history.stored = [];
    const md = renderReport(scenario('mix'), options, { history, result: check(history), hostile: null });
    assert.match(md, /\*\*1 violations\*\*: acked-not-stored × 1/);
    assert.match(md, /stored: nothing/);
  });
});
