// The admin page in a real browser (Debian's Chromium through playwright-core, never a downloaded one)
// behind nginx at /admin/, in front of a whole system: a non-admin is refused with the API's 403, an
// admin sees gateways with their connections, queues, and the dead letters, and requeues one (stored)
// and discards another (gone) with the buttons.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Nginx, startNginx } from '@chat/testkit';
import { type Browser, chromium, type Page } from 'playwright-core';
import {
  ADMIN,
  type AdminStack,
  deadLetteredJunk,
  deadLetteredMessage,
  startAdminStack,
} from '../../../gateway/test/e2e/admin-stack.js';
import { RawClient } from '../../../gateway/test/e2e/raw-client.js';
import { freePort, http, signUp, waitFor } from '../../../gateway/test/e2e/stack.js';

const ADMIN_DIR = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PASSWORD = 'correct horse battery';

describe('the admin page in a browser, behind nginx', { timeout: 240_000 }, () => {
  let sys: AdminStack | undefined;
  let nginx: Nginx | undefined;
  let browser: Browser | undefined;
  const problems: string[] = [];

  before(async () => {
    // Always bundle the current sources: the test must not pass on a stale dist/page.
    const built = spawnSync(process.execPath, [join(ADMIN_DIR, 'build.mjs')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(built.status, 0, `admin build failed:\n${built.stdout}${built.stderr}`);
    sys = await startAdminStack(2);
    nginx = await startNginx({
      port: await freePort(),
      gateways: sys.stack.gateways.map((g) => ({ port: g.port })),
      demoRoot: join(ADMIN_DIR, 'dist', 'page'),
      adminRoot: join(ADMIN_DIR, 'dist', 'page'),
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: 30_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await nginx?.stop().catch(() => {});
    await sys?.close();
  });

  async function open(): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 1300, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    await page.goto(`${nginx!.url}/admin/`);
    return page;
  }

  async function logIn(page: Page, username: string): Promise<void> {
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
  }

  it('refuses a non-admin with the API error', async () => {
    await signUp(sys!.stack.gateways[0]!.url, 'page-plain');
    const page = await open();
    await logIn(page, 'page-plain');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('403 forbidden'));
    assert.equal(await page.isVisible('#view'), false);
    await page.context().close();
  });

  it('shows gateways, queues and dead letters to an admin, and requeues and discards with the buttons', async () => {
    const base = sys!.stack.gateways[0]!.url;
    const prefix = sys!.stack.prefix;
    const { bob, channelId, id } = await deadLetteredMessage(sys!, 'page', 'requeued from the page');
    const dm = { id: channelId };
    const ws = await RawClient.open(`ws://127.0.0.1:${sys!.stack.gateways[0]!.port}/ws`);
    await ws.identify(bob.token);
    await deadLetteredJunk(sys!, 'page');
    // Both are in the dead-letter queue and gw0 reported bob's socket before the page loads.
    await waitFor(
      async () => {
        const d = await http(base, 'GET', '/api/admin/dead-letters', undefined, sys!.admin.token);
        const g = await http(base, 'GET', '/api/admin/gateways', undefined, sys!.admin.token);
        return d.body.dead_letters.length === 2 && g.body.some((x: { connections: number }) => x.connections === 1);
      },
      'two dead letters and a reported connection',
      30_000,
      250,
    );

    const page = await open();
    await logIn(page, ADMIN);
    await page.waitForSelector('#dead-letters[data-loaded=true]');
    assert.equal(await page.isVisible('#login'), false, 'the login form is gone once logged in');
    assert.equal(await page.textContent('#who'), ADMIN);
    const gw0 = await page.textContent('#gateways tbody tr:has(td:text-is("gw0"))');
    assert.match(gw0!, new RegExp(`^gw0yes11${prefix}\\.gw\\.gw0`));
    const queues = await page.textContent('#queues');
    assert.ok(queues!.includes(`${prefix}.persist.dead`));
    const good = page.locator('#dead-letters tbody tr', { hasText: 'writer_not_allowed' });
    const bad = page.locator('#dead-letters tbody tr', { hasText: 'invalid_json' });
    assert.equal(await good.count(), 1);
    assert.equal(await bad.count(), 1);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-page.png'), fullPage: true });

    await good.getByRole('button', { name: 'Requeue' }).click();
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('Requeued'));
    await ws.next((f) => f.t === 'MESSAGE_CREATE' && f.d?.id === id, 20_000);
    await page.waitForFunction(
      () => !document.querySelector('#dead-letters tbody')?.textContent?.includes('writer_not'),
    );
    await bad.getByRole('button', { name: 'Discard' }).click();
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('Discarded'));
    await page.waitForFunction(() => document.querySelectorAll('#dead-letters tbody tr').length === 0);
    assert.equal(await page.textContent('#dead-total'), '(0 shown of 0)');
    const stored = await http(base, 'GET', `/api/channels/${dm.id}/messages`, undefined, bob.token);
    assert.deepEqual(
      stored.body.map((m: { id: string }) => m.id),
      [id],
    );
    ws.close();
    assert.deepEqual(problems, []);
  });
});
