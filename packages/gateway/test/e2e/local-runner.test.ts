import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { createClient } from '@chat/client';
import { deleteRunnerTopology, ROOT, runnerEnv, runnerPorts } from './runner.js';
import { waitFor } from './stack.js';

describe('npm start (scripts/start.mjs)', () => {
  it('starts the whole system behind nginx, serves the page and the API, carries a chat, and stops everything on Ctrl-C', async () => {
    const ports = await runnerPorts();
    const httpPort = ports.http;
    const child = spawn(process.execPath, ['--conditions=@chat/source', '--import', 'tsx', 'scripts/start.mjs'], {
      cwd: ROOT,
      // Its own names on the shared broker, Redis and database, so it never meets other runs.
      env: runnerEnv(ports, 2, `runner${process.pid}`),
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
    await deleteRunnerTopology(`runner${process.pid}`);
  });
});
