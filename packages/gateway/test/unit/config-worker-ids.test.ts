import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = { JWT_SECRET: 'a'.repeat(40) };

describe('gateway configuration: WORKER_ID_RANGE', () => {
  it('defaults to every worker id and reads a site range', () => {
    assert.deepEqual(loadConfig(base).workerIds, { first: 0, last: 1023 });
    assert.deepEqual(loadConfig({ ...base, WORKER_ID_RANGE: '512-1023' }).workerIds, { first: 512, last: 1023 });
    assert.deepEqual(loadConfig({ ...base, WORKER_ID_RANGE: '7-7' }).workerIds, { first: 7, last: 7 });
  });

  it('refuses a range that is reversed, out of 0..1023 or not first-last, naming the variable', () => {
    for (const bad of ['600-500', '0-1024', '-1-5', '5', 'a-b', '0-1023-4', ' 0-5'])
      assert.throws(
        () => loadConfig({ ...base, WORKER_ID_RANGE: bad }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError);
          assert.match(e.message, /WORKER_ID_RANGE/);
          return true;
        },
      );
  });
});
