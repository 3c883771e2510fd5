// The demo page in a real browser (Debian's Chromium through playwright-core) against the whole
// system: two gateways and the persister as processes, nginx in front serving the built page and
// proxying /api/ and /ws. Two browser contexts are two people with their own session storage.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Nginx, startNginx } from '@chat/testkit';
import { type Browser, chromium, type Page } from 'playwright-core';
import { freePort, type Stack, startStack, waitFor } from '../../../gateway/test/e2e/stack.js';

const DEMO_DIR = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(DEMO_DIR, 'dist');
const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));
const SCREENSHOT = join(ARTIFACTS, 'demo-chat.png');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PASSWORD = 'correct horse battery';

/** One person: a browser context (own cookies and storage) with one tab, and what went wrong in it. */
interface Person {
  name: string;
  page: Page;
  /** Uncaught exceptions and console errors of the page. */
  problems: string[];
}

describe('the demo page in a browser, behind nginx, in front of two gateways', { timeout: 180_000 }, () => {
  let stack: Stack | undefined;
  let nginx: Nginx | undefined;
  let browser: Browser | undefined;
  let alice: Person;
  let bob: Person;

  before(async () => {
    // Always bundle the current sources: the test must not pass on a stale dist/.
    const built = spawnSync(process.execPath, [join(DEMO_DIR, 'build.mjs')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(built.status, 0, `demo build failed:\n${built.stdout}${built.stderr}`);
    stack = await startStack({ gateways: 2 });
    nginx = await startNginx({
      port: await freePort(),
      gateways: stack.gateways.map((g) => ({ port: g.port })),
      demoRoot: DIST,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: 30_000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  after(async () => {
    // Each step runs even when an earlier one fails: nothing may outlive the test.
    await browser?.close().catch(() => {});
    await nginx?.stop().catch(() => {});
    await stack?.close();
  });

  async function open(name: string): Promise<Person> {
    const context = await browser!.newContext({ viewport: { width: 1100, height: 680 }, colorScheme: 'light' });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.goto(nginx!.url);
    return { name, page, problems };
  }

  /** Registers through the form and waits until the session is online with a channel open. */
  async function register(p: Person): Promise<void> {
    await p.page.getByLabel('Username').fill(p.name);
    await p.page.getByLabel('Password').fill(PASSWORD);
    await p.page.getByRole('button', { name: 'Create account' }).click();
    await p.page.locator('#chat-view').waitFor({ state: 'visible' });
    await p.page.locator('#connection[data-state="open"]').waitFor();
    await p.page.locator('#channel-title', { hasText: '# official' }).waitFor();
  }

  async function send(p: Person, text: string): Promise<void> {
    const input = p.page.locator('#composer-input');
    await input.pressSequentially(text, { delay: 15 }); // real keystrokes: input events drive typing()
    await input.press('Enter');
  }

  const contents = (p: Person) => p.page.locator('#messages li.message .content').allTextContents();

  it('two people register through the page, meet in "official" and see each other’s messages live', async () => {
    alice = await open('alice');
    bob = await open('bob');
    await register(alice);
    await register(bob);

    for (const p of [alice, bob]) {
      assert.equal(await p.page.locator('#me-name').textContent(), p.name);
      assert.equal(await p.page.locator('#connection-label').textContent(), 'Online');
      const channels = await p.page.locator('#channel-list button.channel').allTextContents();
      assert.ok(
        channels.some((c) => c.includes('official')),
        `${p.name} is in the default group: ${channels}`,
      );
      assert.equal(await p.page.locator('#channel-list button[aria-current="true"] .name').textContent(), 'official');
    }

    // Alice's keystrokes reach Bob as a typing notice, then her message replaces it.
    const hello = 'hello bob, this went through nginx';
    const typing = alice.page.locator('#composer-input');
    await typing.pressSequentially('hello', { delay: 15 });
    await bob.page.locator('#typing', { hasText: 'alice is typing…' }).waitFor();
    await typing.fill('');
    await send(alice, hello);
    await bob.page.locator('#messages li.message .content', { hasText: hello }).waitFor();
    await alice.page.locator('#messages li.message .content', { hasText: hello }).waitFor();
    await bob.page.waitForFunction(() => document.querySelector('#typing')?.textContent === '');

    const reply = 'hi alice! <b>markup</b> stays text & <img src=x onerror=alert(1)>';
    await send(bob, reply);
    await alice.page.locator('#messages li.message .content', { hasText: 'hi alice!' }).waitFor();
    await bob.page.locator('#messages li.message .content', { hasText: 'hi alice!' }).waitFor();

    // Both see the same conversation: each message once, in id order, confirmed (nothing pending).
    for (const p of [alice, bob]) {
      assert.deepEqual(await contents(p), [hello, reply], `${p.name}'s message list`);
      assert.equal(await p.page.locator('#pending li').count(), 0, `${p.name} has nothing pending`);
      assert.equal(await p.page.locator('#load-older').isVisible(), false, 'two messages: no older page to load');
      assert.equal(await p.page.locator('#messages img, #messages b').count(), 0, 'user text is never parsed');
      const ids = await p.page
        .locator('#messages li.message')
        .evaluateAll((rows) => rows.map((r) => BigInt(r.getAttribute('data-id') ?? '0')));
      assert.ok(ids[0]! < ids[1]!, 'rows are in id order');
    }
    const authors = await alice.page.locator('#messages li.message .author').allTextContents();
    assert.deepEqual(authors, ['alice', 'bob']);

    // Bob starts a draft, so the screenshot shows the typing notice on Alice's side too.
    await bob.page.locator('#composer-input').pressSequentially('typing a rep', { delay: 15 });
    await alice.page.locator('#typing', { hasText: 'bob is typing…' }).waitFor();
    mkdirSync(ARTIFACTS, { recursive: true });
    await alice.page.screenshot({ path: SCREENSHOT });
    assert.ok(existsSync(SCREENSHOT) && statSync(SCREENSHOT).size > 10_000, `screenshot at ${SCREENSHOT}`);

    for (const p of [alice, bob]) assert.deepEqual(p.problems, [], `${p.name}'s page reported no errors`);
  });

  it('a group created in the page, a member added by id and a DM opened from an author’s name reach the other person live', async () => {
    const channel = (p: Person, name: string) => p.page.locator('#channel-list button.channel', { hasText: name });
    await bob.page.locator('#composer-input').fill('');

    // Alice makes a group and adds Bob by the id his page shows him.
    await alice.page.getByLabel('New group').fill('project');
    await alice.page.getByRole('button', { name: 'Create', exact: true }).click();
    await alice.page.locator('#channel-title', { hasText: '# project' }).waitFor();
    const bobId = (await bob.page.locator('#me-id').textContent()) ?? '';
    assert.match(bobId, /^[0-9]+$/);
    await alice.page.getByLabel('Add member (user id)').fill(bobId);
    await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
    await alice.page.locator('#notice', { hasText: 'bob is now a member of #project' }).waitFor();
    await channel(bob, 'project').waitFor();

    // Her message there arrives while Bob looks at "official": an unread count, then the history.
    await send(alice, 'welcome to the project');
    await channel(bob, 'project').locator('.badge', { hasText: '1' }).waitFor();
    await channel(bob, 'project').click();
    await bob.page.locator('#channel-title', { hasText: '# project' }).waitFor();
    assert.deepEqual(await contents(bob), ['welcome to the project']);
    assert.equal(await channel(bob, 'project').locator('.badge').count(), 0);

    // Bob opens a DM from Alice's name; it appears in her list under his name.
    await bob.page.locator('#messages li.message .author', { hasText: 'alice' }).click();
    await bob.page.getByRole('dialog').getByRole('button', { name: 'Direct message' }).click();
    await bob.page.locator('#channel-title', { hasText: '@ alice' }).waitFor();
    await channel(alice, 'bob').waitFor();
    await send(bob, 'a private word');
    await channel(alice, 'bob').locator('.badge', { hasText: '1' }).waitFor();
    await channel(alice, 'bob').click();
    await alice.page.locator('#messages li.message .content', { hasText: 'a private word' }).waitFor();
    assert.deepEqual(await contents(alice), ['a private word']);

    // Unread counts are the server's: a second tab of Bob's shows the badge from READY, and reading the
    // channel in that tab clears it in the first one too (the ack reaches Bob's other session as ACK).
    await channel(alice, 'project').click();
    await send(alice, 'a second note');
    await channel(bob, 'project').locator('.badge', { hasText: '1' }).waitFor();
    const bob2 = await open('bob');
    await bob2.page.getByLabel('Username').fill('bob');
    await bob2.page.getByLabel('Password').fill(PASSWORD);
    await bob2.page.getByRole('button', { name: 'Log in' }).click();
    await bob2.page.locator('#connection[data-state="open"]').waitFor();
    await channel(bob2, 'project').locator('.badge', { hasText: '1' }).waitFor();
    await channel(bob2, 'project').click();
    await bob2.page.locator('#messages li.message .content', { hasText: 'a second note' }).waitFor();
    await channel(bob, 'project').locator('.badge').waitFor({ state: 'detached' });
    assert.deepEqual(bob2.problems, [], "bob's second page reported no errors");
    await bob2.page.context().close();
    await channel(alice, 'bob').click();
    await alice.page.locator('#channel-title', { hasText: '@ bob' }).waitFor();
    // The next test counts one connection per page: wait for the second tab's to be gone.
    const connections = async () => {
      let n = 0;
      for (const g of stack!.gateways) {
        const text = await (await fetch(`${g.url}/metrics`)).text();
        n += Number(/^chat_gateway_connections (\d+)/m.exec(text)?.[1] ?? 0);
      }
      return n;
    };
    await waitFor(async () => (await connections()) === 2, "the second tab's connection to close");

    for (const p of [alice, bob]) assert.deepEqual(p.problems, [], `${p.name}'s page reported no errors`);
  });
  it('when the gateway holding a page is killed, its indicator goes Reconnecting… then Online and the chat goes on', async () => {
    // Record every state the indicator shows from now on.
    for (const p of [alice, bob]) {
      await p.page.evaluate(() => {
        const el = document.querySelector('#connection')!;
        const seen: string[] = [];
        Object.assign(window, { seenStates: seen });
        new MutationObserver(() => seen.push(el.getAttribute('data-state') ?? '')).observe(el, {
          attributes: true,
          attributeFilter: ['data-state'],
        });
      });
    }
    const seen = (p: Person) => p.page.evaluate(() => (window as unknown as { seenStates: string[] }).seenStates);

    // The gateway with the most connections holds alice, bob or both.
    const load = await Promise.all(
      stack!.gateways.map(async (g) => {
        const text = await (await fetch(`${g.url}/metrics`)).text();
        return Number(/^chat_gateway_connections (\d+)/m.exec(text)?.[1] ?? 0);
      }),
    );
    assert.equal(
      load.reduce((a, b) => a + b, 0),
      2,
      `one connection per page: ${load}`,
    );
    const victim = stack!.gateways[load.indexOf(Math.max(...load))]!;
    victim.kill('SIGKILL');
    await victim.exited;

    // nginx sends the reconnect to the surviving gateway; the client RESUMEs there.
    await waitFor(
      async () => (await seen(alice)).includes('reconnecting') || (await seen(bob)).includes('reconnecting'),
      'a page to notice the dead gateway',
      15_000,
    );
    await alice.page.waitForFunction(
      () => document.querySelector('#connection')?.getAttribute('data-state') === 'open',
      null,
      { timeout: 30_000 },
    );
    await bob.page.waitForFunction(
      () => document.querySelector('#connection')?.getAttribute('data-state') === 'open',
      null,
      { timeout: 30_000 },
    );
    const states = { alice: await seen(alice), bob: await seen(bob) };
    assert.ok(
      Object.values(states).some((s) => s.includes('reconnecting') && s.at(-1) === 'open'),
      `a page on the killed gateway showed the reconnect: ${JSON.stringify(states)}`,
    );

    // Both are in the DM from the previous test; it still works both ways.
    await send(alice, 'still here after the failover');
    await bob.page.locator('#messages li.message .content', { hasText: 'still here after the failover' }).waitFor();
    await send(bob, 'me too');
    await alice.page.locator('#messages li.message .content', { hasText: 'me too' }).waitFor();
    assert.deepEqual(await contents(alice), ['a private word', 'still here after the failover', 'me too']);
    assert.deepEqual(await contents(bob), ['a private word', 'still here after the failover', 'me too']);
    for (const p of [alice, bob]) assert.deepEqual(p.problems, [], `${p.name}'s page reported no errors`);
  });

  it('a reply chosen from a message’s Reply action shows the message it answers above it, on both pages', async () => {
    // Both are still in the DM of the previous tests.
    const row = (p: Person, text: string) => p.page.locator('#messages li.message', { hasText: text });
    await row(alice, 'me too').hover();
    await row(alice, 'me too').getByRole('button', { name: 'Reply' }).click();
    await alice.page.locator('#replying', { hasText: 'Replying to bob: me too' }).waitFor();
    await send(alice, 'glad to hear');
    for (const p of [alice, bob]) {
      const reply = p.page.locator('#messages li.message', {
        has: p.page.locator('.content', { hasText: 'glad to hear' }),
      });
      await reply.locator('.reference').waitFor();
      assert.equal(await reply.locator('.reference-author').textContent(), 'bob', `${p.name} sees whom it answers`);
      assert.equal(await reply.locator('.reference-content').textContent(), 'me too', `${p.name} sees what it answers`);
    }
    assert.equal(await alice.page.locator('#replying').isVisible(), false, 'the reply bar closes once sent');
  });

  it('the search box lists the messages holding every word, newest first, and a result opens its channel', async () => {
    async function search(p: Person, words: string): Promise<string[]> {
      await p.page.getByLabel('Search messages').fill(words);
      await p.page.getByRole('button', { name: 'Search', exact: true }).click();
      await p.page.waitForFunction(() => /message/.test(document.querySelector('#search-status')?.textContent ?? ''));
      return p.page.locator('#search-results .search-content').allTextContents();
    }
    assert.deepEqual(await search(alice, 'PROJECT welcome'), ['welcome to the project']);
    assert.deepEqual(await search(bob, 'the'), ['still here after the failover', 'welcome to the project']);
    assert.deepEqual(await search(bob, 'unheard'), []);
    assert.equal(await bob.page.locator('#search-status').textContent(), 'No messages found.');
    await search(alice, 'welcome');
    await alice.page.locator('#search-results .search-hit').first().click();
    await alice.page.locator('#channel-title', { hasText: '# project' }).waitFor();
    for (const p of [alice, bob]) assert.deepEqual(p.problems, [], `${p.name}'s page reported no errors`);
  });
});
