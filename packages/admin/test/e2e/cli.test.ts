// The chat-admin CLI as an operator runs it: the package's bin (built, linked by npm) spawned against a
// real gateway of a whole system, credentials from flags or the environment, tables or --json.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ADMIN,
  type AdminStack,
  deadLetteredJunk,
  deadLetteredMessage,
  startAdminStack,
} from '../../../gateway/test/e2e/admin-stack.js';
import { RawClient } from '../../../gateway/test/e2e/raw-client.js';
import { http, signUp, waitFor } from '../../../gateway/test/e2e/stack.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(REPO, 'node_modules/.bin/chat-admin');
const PASSWORD = 'correct horse battery';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin to its end (asynchronously: the gateways it calls run in this process's event loop's children). */
function chatAdmin(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('chat-admin CLI', { timeout: 240_000 }, () => {
  let sys: AdminStack;
  let url: string;
  let as: string[];

  before(async () => {
    // The bin is dist/cli.js: build it from the current sources (tsc), and let build.mjs make it executable.
    for (const cmd of [
      [join(REPO, 'node_modules/.bin/tsc'), '-b', join(REPO, 'packages/admin')],
      [process.execPath, join(REPO, 'packages/admin/build.mjs')],
    ]) {
      const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', cwd: REPO, timeout: 120_000 });
      assert.equal(r.status, 0, `${cmd.join(' ')}:\n${r.stdout}${r.stderr}`);
    }
    sys = await startAdminStack(2);
    url = sys.stack.gateways[0]!.url;
    as = ['--url', url, '--username', ADMIN, '--password', PASSWORD];
  });
  after(async () => sys?.close());

  it('prints the gateways as a table and as JSON, with their connection counts', async () => {
    const user = await signUp(url, 'cli-conn');
    const ws = await RawClient.open(`ws://127.0.0.1:${sys.stack.gateways[1]!.port}/ws`);
    await ws.identify(user.token);
    try {
      let json: Array<{ server_id: string; connections: number }> = [];
      // Polling with a token: a login per call would spend the login budget (LOGIN_RATE_REQUESTS).
      await waitFor(
        async () => {
          const r = await chatAdmin(['gateways', '--json', '--url', url, '--token', sys.admin.token]);
          assert.equal(r.status, 0, r.stderr);
          json = JSON.parse(r.stdout);
          return json.find((g) => g.server_id === 'gw1')?.connections === 1;
        },
        'gw1 to report its connection',
        30_000,
        250,
      );
      const table = await chatAdmin(['gateways'], {
        CHAT_ADMIN_URL: url,
        CHAT_ADMIN_USERNAME: ADMIN,
        CHAT_ADMIN_PASSWORD: PASSWORD,
      });
      assert.equal(table.status, 0, table.stderr);
      const [header, ...rows] = table.stdout.trimEnd().split('\n');
      assert.match(header!, /^SERVER\s+LIVE\s+CONNECTIONS\s+USERS\s+QUEUE/);
      const gw1 = rows.find((r) => r.startsWith('gw1 '));
      assert.match(gw1!, new RegExp(`^gw1\\s+yes\\s+1\\s+1\\s+${sys.stack.prefix}\\.gw\\.gw1\\s`));
    } finally {
      ws.close();
    }
  });

  it('prints the queues', async () => {
    const r = await chatAdmin(['queues', ...as]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^QUEUE\s+TYPE\s+MESSAGES/);
    assert.match(r.stdout, new RegExp(`\\n${sys.stack.prefix}\\.persist\\s+quorum\\s`));
    assert.match(r.stdout, new RegExp(`\\n${sys.stack.prefix}\\.persist\\.dead\\s+quorum\\s`));
  });

  it('lists dead letters with their reasons, requeues one (stored) and discards another (gone)', async () => {
    const { bob, channelId, id } = await deadLetteredMessage(sys, 'cli', 'requeued by the CLI');
    const dm = { id: channelId };
    const junk = await deadLetteredJunk(sys, 'cli');
    type Listed = { dead_letters: Array<{ id: string; reason: string; message_id: string | null; body: string }> };
    let listed: Listed = { dead_letters: [] };
    await waitFor(
      async () => {
        const r = await chatAdmin(['dlq', 'list', '--limit', '100', '--json'], {
          CHAT_ADMIN_URL: url,
          CHAT_ADMIN_TOKEN: sys.admin.token,
        });
        assert.equal(r.status, 0, r.stderr);
        listed = JSON.parse(r.stdout);
        return listed.dead_letters.length >= 2;
      },
      'two dead letters',
      30_000,
      250,
    );
    const good = listed.dead_letters.find((d) => d.message_id === id)!;
    const bad = listed.dead_letters.find((d) => d.body === junk)!;
    assert.equal(good.reason, 'writer_not_allowed');
    assert.equal(bad.reason, 'invalid_json');
    const table = await chatAdmin(['dlq', 'list', ...as]);
    assert.match(table.stdout, new RegExp(`\\n${good.id}\\s+writer_not_allowed\\s+message\\.create\\s+${id}\\s`));
    assert.match(table.stdout, /2 shown of 2 in the dead-letter queue/);

    const requeued = await chatAdmin(['dlq', 'requeue', good.id, ...as]);
    assert.equal(requeued.status, 0, requeued.stderr);
    assert.equal(requeued.stdout, `requeued ${good.id} (writer_not_allowed)\n`);
    await waitFor(
      async () => {
        const h = await http(url, 'GET', `/api/channels/${dm.id}/messages`, undefined, bob.token);
        return h.body.length === 1 && h.body[0].id === id;
      },
      'the requeued message stored',
      30_000,
      250,
    );
    const discarded = await chatAdmin(['dlq', 'discard', bad.id, '--json', ...as]);
    assert.equal(discarded.status, 0, discarded.stderr);
    assert.equal(JSON.parse(discarded.stdout).reason, 'invalid_json');
    const empty = JSON.parse((await chatAdmin(['dlq', 'list', '--json', ...as])).stdout);
    assert.deepEqual(empty.dead_letters, []);
    const again = await chatAdmin(['dlq', 'discard', bad.id, ...as]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /404 not_found/);
  });

  it('exits 1 with the API error for a non-admin, 2 for usage errors', async () => {
    await signUp(url, 'cli-plain');
    const r = await chatAdmin(['queues', '--url', url, '--username', 'cli-plain', '--password', PASSWORD]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /403 forbidden/);
    const wrong = await chatAdmin(['queues', '--url', url, '--username', 'cli-plain', '--password', 'wrong password']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /401 unauthorized/);
    const badToken = await chatAdmin(['queues', '--url', url, '--token', 'not-a-token']);
    assert.equal(badToken.status, 1);
    assert.match(badToken.stderr, /401 unauthorized/);
    for (const args of [['dlq'], ['dlq', 'requeue'], ['nope'], ['dlq', 'list', '--limit', '101'], ['queues']]) {
      const u = await chatAdmin(args, {});
      assert.equal(u.status, 2, `${args.join(' ')}: ${u.stderr}`);
      assert.match(u.stderr, /usage: chat-admin/);
    }
  });
});
