import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { alive, deleteRunnerTopology, descendants, portFree, ROOT, runnerEnv, runnerPorts } from './runner.js';
import { waitFor } from './stack.js';

describe('npm start stopped with SIGTERM', () => {
  it('SIGTERM to the npm process stops the runner, every service and nginx, and frees their ports', async () => {
    const name = `runterm${process.pid}`;
    const ports = await runnerPorts();
    const env = runnerEnv(ports, 2, name);
    // `npm start` itself (package.json's script, through npm and sh) without `prestart`, whose machine
    // set-up is not what this tests; npm and the runner load the TypeScript sources as the other tests do.
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --conditions=@chat/source --import tsx`.trim();
    const npm = spawn('npm', ['start', '--ignore-scripts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    npm.stdout.on('data', (d) => (out += d.toString()));
    npm.stderr.on('data', (d) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    const npmPid = npm.pid ?? 0;
    const listening = [ports.http, ports.gatewayBase, ports.gatewayBase + 1, ports.persister];
    let started: number[] = [];
    try {
      await waitFor(() => out.includes('Chat is up') || npm.exitCode !== null, 'the runner to start', 90_000);
      assert.match(out, /Chat is up/, out.slice(-2000));
      started = descendants(npmPid);
      // the runner, the persister, two gateways, nginx's master and at least one worker
      assert.ok(started.length >= 6, `processes under npm: ${started.join(' ')}`);
      for (const port of listening) assert.equal(await portFree(port), false, `port ${port} in use while running`);
    } finally {
      npm.kill('SIGTERM');
      await exited;
    }
    assert.match(out, /\[gw0\] info drained/, out.slice(-3000));
    assert.match(out, /\[gw1\] info drained/);
    assert.match(out, /\[persister\] info stopped/);
    assert.match(out, /\[start\] stopped/);
    // npm exits once its child has; the runner waits for its own children before it exits.
    await waitFor(() => started.every((pid) => !alive(pid)), 'every process npm started to be gone', 10_000).catch(
      () => undefined,
    );
    assert.deepEqual(
      started.filter((pid) => alive(pid)),
      [],
      'processes left running after SIGTERM',
    );
    for (const port of listening) assert.equal(await portFree(port), true, `port ${port} still in use`);
    await deleteRunnerTopology(name);
  });
});
