// The published packages as a user gets them: `npm pack` of @chat/protocol, @chat/router, @chat/store and
// @chat/client (prepack builds), the tarballs installed into a fresh project outside the workspace (third-
// party dependencies from the registry), and there: examples/router-service.mjs against the real RabbitMQ,
// examples/client-node.mjs against a real gateway, and an esbuild `platform: 'browser'` bundle of
// @chat/client that must build without any Node-only module.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gatewayQueueName, topologyNames } from '@chat/router';
import { amqpUrl, deleteByPrefix, uniquePrefix } from '@chat/testkit';
import { build } from 'esbuild';
import { type Stack, startStack } from '../../../gateway/test/e2e/stack.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const PACKAGES = ['@chat/protocol', '@chat/router', '@chat/store', '@chat/client'] as const;

interface Packed {
  name: string;
  filename: string;
  files: Array<{ path: string }>;
}

/** Runs a program; resolves with its stdout, rejects with stdout and stderr in the message. */
async function sh(
  file: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<string> {
  try {
    const { stdout } = await run(file, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** The last line of a program's output, as JSON (the examples print one result line). */
function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

describe('the packages as published: packed, installed elsewhere, used', () => {
  let dir: string;
  let packed: Packed[];
  let stack: Stack;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chat-packed-'));
    packed = JSON.parse(
      await sh('npm', ['pack', '--json', '--pack-destination', dir, ...PACKAGES.flatMap((p) => ['-w', p])], {
        cwd: ROOT,
      }),
    ) as Packed[];
    const tarball = (name: string) => `file:${join(dir, packed.find((p) => p.name === name)!.filename)}`;
    const deps = Object.fromEntries(PACKAGES.map((p) => [p, tarball(p)]));
    // `overrides`: the packages' dependencies on each other resolve to these tarballs, never the registry.
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'fresh-project', private: true, type: 'module', dependencies: deps, overrides: deps }),
    );
    await sh('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir });
    for (const example of ['router-service.mjs', 'client-node.mjs'])
      copyFileSync(join(ROOT, 'examples', example), join(dir, example));
    stack = await startStack({ gateways: 1 });
  });
  after(async () => {
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('each tarball holds dist (JavaScript and types), README, LICENSE and package.json, and no sources', () => {
    assert.deepEqual(packed.map((p) => p.name).sort(), [...PACKAGES].sort());
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts'])
        assert.ok(files.includes(f), `${p.name} ships ${f}`);
      assert.deepEqual(
        files.filter((f) => !(f.startsWith('dist/') || ['package.json', 'README.md', 'LICENSE'].includes(f))),
        [],
        `${p.name} ships nothing but dist and the docs`,
      );
      assert.ok(!files.some((f) => f.endsWith('.tsbuildinfo') || f.endsWith('.map')), `${p.name}: no build leftovers`);
      const manifest = JSON.parse(readFileSync(join(dir, 'node_modules', p.name, 'package.json'), 'utf8'));
      assert.equal(manifest.scripts.prepack, 'tsc -b');
      assert.equal(manifest.publishConfig.access, 'public');
      assert.equal(manifest.repository.directory, `packages/${p.name.slice('@chat/'.length)}`);
      assert.ok(manifest.keywords.length > 0);
    }
  });

  it('prom-client is a peer of @chat/router; @chat/client and @chat/store depend on neither the router nor amqplib', () => {
    const manifest = (name: string) =>
      JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
      };
    assert.ok(manifest('@chat/router').peerDependencies?.['prom-client']);
    assert.equal(manifest('@chat/router').dependencies?.['prom-client'], undefined);
    assert.ok(existsSync(join(dir, 'node_modules', 'prom-client')), 'npm installed the peer');
    assert.deepEqual(Object.keys(manifest('@chat/client').dependencies ?? {}).sort(), ['@chat/protocol', 'ws']);
    assert.deepEqual(Object.keys(manifest('@chat/protocol').dependencies ?? {}), []);
    assert.equal(manifest('@chat/store').dependencies?.['@chat/router'], undefined);
    assert.ok(manifest('@chat/store').dependencies?.['@chat/protocol']);
  });

  it('examples/router-service.mjs: a service durably writes a message and dispatches an event on the real RabbitMQ', async () => {
    const prefix = uniquePrefix('packed').replace(/-+$/, '');
    try {
      const out = lastJson(
        await sh(process.execPath, ['router-service.mjs'], {
          cwd: dir,
          env: { AMQP_URL: amqpUrl(), CHAT_PREFIX: prefix },
        }),
      );
      assert.equal(out.stored, out.written, 'the persister stand-in read the confirmed write back');
      assert.equal(out.content, 'Stand-up in 5 minutes');
      assert.equal(out.event, 'TYPING_START');
      assert.deepEqual(out.to, ['alice']);
    } finally {
      const names = topologyNames(prefix, 16);
      await deleteByPrefix(amqpUrl(), prefix, {
        queues: [names.persistQueue, names.deadQueue, gatewayQueueName(prefix, 'example-gw')],
        exchanges: [names.frontExchange, ...names.routeExchanges, names.deadExchange],
      }).catch(() => {});
    }
  });

  it('examples/client-node.mjs: a Node script signs up, connects, sends and sees its message through a real gateway', async () => {
    const out = lastJson(
      await sh(process.execPath, ['client-node.mjs'], {
        cwd: dir,
        env: { CHAT_URL: stack.gateways[0]!.url, CHAT_USER: 'packed-example', CHAT_PASSWORD: 'correct horse battery' },
      }),
    );
    assert.match(String(out.sent), /^\d+$/);
    assert.equal(out.delivered, out.sent);
    assert.equal(out.inHistory, true);
  });

  it('an esbuild platform: browser bundle of the installed @chat/client builds, with no Node-only module in it', async () => {
    const entry = join(dir, 'browser-entry.js');
    writeFileSync(
      entry,
      "import { createClient } from '@chat/client';\nwindow.chat = createClient({ baseUrl: location.origin });\n",
    );
    const result = await build({
      entryPoints: [entry],
      absWorkingDir: dir,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    assert.deepEqual(result.errors, []);
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((i) => i.includes('node_modules/@chat/client/dist/')));
    assert.ok(inputs.some((i) => i.includes('node_modules/@chat/protocol/dist/')));
    for (const forbidden of ['@chat/router', 'amqplib', 'prom-client', 'node:'])
      assert.ok(!inputs.some((i) => i.includes(forbidden)), `${forbidden} is not in the browser bundle`);
  });
});
