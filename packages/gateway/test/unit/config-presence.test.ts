import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = { JWT_SECRET: 'a'.repeat(40) };

describe('gateway configuration: presence', () => {
  it('has bounded defaults and reads every PRESENCE_ variable', () => {
    const d = loadConfig(base);
    assert.deepEqual(
      [
        d.presenceMaxGroupMembers,
        d.presenceMaxAudience,
        d.presenceHeartbeatMs,
        d.presenceTimeoutMs,
        d.presenceOfflineGraceMs,
      ],
      [100, 1000, 10_000, 30_000, 5000],
    );
    const c = loadConfig({
      ...base,
      PRESENCE_MAX_GROUP_MEMBERS: '0',
      PRESENCE_MAX_AUDIENCE: '50',
      PRESENCE_HEARTBEAT_MS: '500',
      PRESENCE_TIMEOUT_MS: '1000',
      PRESENCE_OFFLINE_GRACE_MS: '0',
    });
    assert.deepEqual(
      [
        c.presenceMaxGroupMembers,
        c.presenceMaxAudience,
        c.presenceHeartbeatMs,
        c.presenceTimeoutMs,
        c.presenceOfflineGraceMs,
      ],
      [0, 50, 500, 1000, 0],
    );
  });

  it('refuses a timeout shorter than two heartbeats (a live gateway would be taken for dead) and an unbounded audience', () => {
    assert.throws(
      () => loadConfig({ ...base, PRESENCE_HEARTBEAT_MS: '1000', PRESENCE_TIMEOUT_MS: '1500' }),
      (err: unknown) => err instanceof ConfigError && /PRESENCE_TIMEOUT_MS must be at least twice/.test(err.message),
    );
    assert.throws(() => loadConfig({ ...base, PRESENCE_MAX_AUDIENCE: '0' }), ConfigError);
    assert.throws(() => loadConfig({ ...base, PRESENCE_MAX_AUDIENCE: '1000000' }), ConfigError);
  });
});
