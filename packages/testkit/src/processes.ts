// Helpers for tests that run services as real child processes: free ports, polling, and spawning a
// service's main.ts from source (as CI and the e2e tests do) until it logs that it is ready.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

/**
 * Polls until `predicate` holds, or throws after `timeoutMs` naming `what`. `intervalMs` between polls
 * (20): a predicate that calls an API with a request budget should poll less often.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Its output, one log line per entry (the first 20,000). */
  readonly logs: string[];
  /** Resolves with the exit code, or the signal's name. */
  readonly exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Spawns `node <main.ts>` from TypeScript sources (workspace packages resolved to their sources) and
 * resolves once a log line contains `readyLine`; rejects with the tail of its output if it exits first.
 */
export async function spawnService(o: {
  name: string;
  main: string;
  env: Record<string, string>;
  readyLine: string;
  timeoutMs?: number;
  /** Extra Node flags, e.g. `['--cpu-prof', '--cpu-prof-dir=/tmp/prof']` (not allowed in NODE_OPTIONS). */
  nodeArgs?: readonly string[];
}): Promise<ServiceProcess> {
  const args = [...(o.nodeArgs ?? []), '--conditions=@chat/source', '--import', 'tsx', o.main];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, LOG_LEVEL: 'info', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let ready = false;
  let gone = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      gone = true;
      resolve(code ?? signal ?? -1);
    }),
  );
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      if (logs.length < 20_000) logs.push(line);
      if (line.includes(o.readyLine)) ready = true;
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  await waitFor(() => ready || gone, `${o.name} to start`, o.timeoutMs ?? 60_000);
  if (!ready) throw new Error(`${o.name} exited at start:\n${logs.slice(-30).join('\n')}`);
  return { name: o.name, child, logs, exited, kill: (s) => child.kill(s) };
}
