// The gateways' reports for the operator's view in the real Redis (GatewayReports): each gateway's
// latest figures, listed while younger than the timeout; older or unreadable ones are deleted (the
// hash holds at most the gateways that reported within the timeout), and a stopped gateway's goes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uniquePrefix } from '@chat/testkit';
import { Redis } from 'ioredis';
import { GatewayReports } from '../../src/gateway-reports.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('GatewayReports', () => {
  let redis: Redis;
  const prefix = `${uniquePrefix('reports')}:`;
  const key = `${prefix}{admin}:gateways`;
  const reports = (serverId: string, timeoutMs = 60_000) => new GatewayReports({ redis, prefix, serverId, timeoutMs });
  before(async () => {
    redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
  });
  after(async () => {
    await redis.del(key);
    redis.disconnect();
  });

  it("lists each gateway's latest report, by server id, with an expiry on the hash", async () => {
    const a = reports('gw-a');
    const b = reports('gw-b');
    await a.report(3, 2);
    await b.report(1, 1);
    await a.report(5, 4);
    const listed = await a.list();
    assert.deepEqual(
      listed.map((r) => [r.serverId, r.connections, r.users]),
      [
        ['gw-a', 5, 4],
        ['gw-b', 1, 1],
      ],
    );
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 0 && ttl <= 120_000, `the hash expires (pttl ${ttl})`);
  });

  it('deletes stale and unreadable reports when listing, and a stopped gateway removes its own', async () => {
    const a = reports('gw-a');
    await redis.hset(
      key,
      'gw-old',
      JSON.stringify({ serverId: 'gw-old', connections: 9, users: 9, at: Date.now() - 61_000 }),
    );
    await redis.hset(key, 'gw-junk', 'not json');
    assert.deepEqual(
      (await a.list()).map((r) => r.serverId),
      ['gw-a', 'gw-b'],
    );
    assert.deepEqual((await redis.hkeys(key)).sort(), ['gw-a', 'gw-b']);
    await reports('gw-b').stop();
    assert.deepEqual(await redis.hkeys(key), ['gw-a']);
  });
});
