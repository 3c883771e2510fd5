import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient } from '@chat/client';
import { topologyNames } from '@chat/router';
import { amqpUrl, deleteByPrefix } from '@chat/testkit';
import { freePort, waitFor } from './stack.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

describe('npm start (scripts/start.mjs)', () => {
  it('starts the whole system behind nginx, serves the page and the API, carries a chat, and stops everything on Ctrl-C', async () => {
    const [httpPort, base, persisterPort] = [
      await freePort(),
      20_000 + Math.floor(Math.random() * 5000),
      await freePort(),
    ];
    const child = spawn(process.execPath, ['--conditions=@chat/source', '--import', 'tsx', 'scripts/start.mjs'], {
      cwd: ROOT,
      env: {
        ...process.env,
        CHAT_FROM_SOURCE: '1',
        GATEWAYS: '2',
        HTTP_PORT: String(httpPort),
        GATEWAY_BASE_PORT: String(base),
        PERSISTER_HTTP_PORT: String(persisterPort),
        // Its own names on the shared broker, Redis and database, so it never meets other runs.
        CHAT_PREFIX: `runner${process.pid}`,
        MONGO_DB: `runner${process.pid}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d.toString()));
    child.stderr.on('data', (d) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => out.includes('Chat is up') || child.exitCode !== null, 'the runner to start', 90_000);
      assert.match(out, /Chat is up/, out.slice(-2000));
      assert.match(out, /KEEPS NOTHING/, 'a loud warning that the MongoDB stand-in keeps nothing');
      const url = `http://127.0.0.1:${httpPort}`;
      assert.equal((await fetch(`${url}/`)).status, 200);
      const a = createClient({ baseUrl: url });
      const b = createClient({ baseUrl: url });
      await a.register('runner_a', 'long enough pw');
      await b.register('runner_b', 'long enough pw');
      await a.login('runner_a', 'long enough pw');
      await b.login('runner_b', 'long enough pw');
      await a.connect();
      await b.connect();
      const got = new Promise<string>((resolve) => b.on('messageCreate', (m) => resolve(m.content)));
      await a.send('1', 'hello from npm start');
      assert.equal(await got, 'hello from npm start');
      await a.close();
      await b.close();
    } finally {
      child.kill('SIGINT');
      assert.equal(await exited, 0, out.slice(-3000));
    }
    assert.match(out, /\[gw0\] info drained/);
    assert.match(out, /\[persister\] info stopped/);
    assert.match(out, /\[start\] stopped/);
    const names = topologyNames(`runner${process.pid}`, 16);
    await deleteByPrefix(amqpUrl(), `runner${process.pid}`, {
      queues: [names.persistQueue, names.deadQueue],
      exchanges: [names.frontExchange, ...names.routeExchanges, names.deadExchange],
    });
  });
});
