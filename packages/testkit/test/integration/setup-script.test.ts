// scripts/probe.mjs and the `npm start` set-up (scripts/setup.sh --run) against the real services:
// RabbitMQ and Redis are found by connecting to the ports of AMQP_URL / REDIS_URL, and what is missing
// is named without installing test tools or needing root.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { freePort } from '@chat/testkit';
import { REPO } from './infra-files.js';

function run(command: string, args: string[], env: Record<string, string>) {
  const r = spawnSync(command, args, {
    cwd: REPO,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}
const probe = (kind: string, env: Record<string, string>) => run(process.execPath, ['scripts/probe.mjs', kind], env);

describe('npm start set-up: scripts/probe.mjs and scripts/setup.sh --run', () => {
  test('probe.mjs finds the running broker and Redis, and a closed port down', async () => {
    const amqp = probe('amqp', { AMQP_URL: process.env.AMQP_URL ?? '' });
    assert.equal(amqp.status, 0, amqp.out);
    assert.match(amqp.out, / up\n$/);
    const redis = probe('redis', { REDIS_URL: process.env.REDIS_URL ?? '' });
    assert.equal(redis.status, 0, redis.out);
    const closed = await freePort();
    const down = probe('redis', { REDIS_URL: `redis://127.0.0.1:${closed}` });
    assert.equal(down.status, 1);
    assert.equal(down.out, `127.0.0.1 ${closed} local down\n`);
  });

  test('probe.mjs reads the first of several URLs, default ports per scheme, and refuses other schemes', () => {
    // 192.0.2.0/24 is TEST-NET-1: nothing answers there.
    const first = probe('amqp', { AMQP_URL: 'amqps://u:p@192.0.2.1,amqp://u:p@127.0.0.1:5672' });
    assert.equal(first.status, 1);
    assert.equal(first.out, '192.0.2.1 5671 remote down\n');
    const bad = probe('amqp', { AMQP_URL: 'http://127.0.0.1:5672' });
    assert.equal(bad.status, 2);
    assert.match(bad.out, /AMQP_URL must start with amqp:\/\/ or amqps:\/\//);
  });

  test('setup.sh --run names an unreachable broker and stops before installing anything', () => {
    const r = run('bash', ['scripts/setup.sh', '--run'], { AMQP_URL: 'amqp://u:p@192.0.2.1:5672' });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /RabbitMQ at 192\.0\.2\.1:5672 \(AMQP_URL\) does not accept connections/);
    assert.doesNotMatch(r.out, /chromium|prometheus|docker-compose|installing/);
  });

  test('setup.sh --run without root names a stopped local Redis and how to start it', {
    skip: process.getuid?.() !== 0 ? 'needs root to run it as another user' : false,
  }, async () => {
    const closed = await freePort();
    const r = run(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', 'scripts/setup.sh', '--run'],
      {
        REDIS_URL: `redis://127.0.0.1:${closed}`,
        AMQP_URL: process.env.AMQP_URL ?? '',
      },
    );
    assert.equal(r.status, 1, r.out);
    assert.match(
      r.out,
      new RegExp(`Redis is not running on 127\\.0\\.0\\.1:${closed}: start it \\(sudo systemctl start redis-server\\)`),
    );
    assert.doesNotMatch(r.out, /starting Redis|installing/);
  });
});
