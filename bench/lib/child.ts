// A forked helper process (load generator, MongoDB stand-in) driven over IPC: request/reply with a
// time limit per request, and a stop that kills this child only if it does not leave by itself.
// The child side is `serveRequests()`: it answers requests and exits when the parent goes away.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { diagnosticArgs } from './profile.js';

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export class ChildHandle {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #exited: string | undefined;
  readonly #gone: Promise<void>;

  /** Forks `moduleUrl` (a .ts file next to the caller) with this process's loader flags and `nodeArgs`. */
  constructor(name: string, moduleUrl: URL, args: string[] = [], nodeArgs: string[] = []) {
    this.name = name;
    this.#child = fork(fileURLToPath(moduleUrl), args, {
      execArgv: [...process.execArgv, ...nodeArgs, ...diagnosticArgs(name)],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#gone = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => {
        this.#exited = signal ? `killed by ${signal}` : `exited with ${code}`;
        for (const p of this.#pending.values()) p.reject(new Error(`${this.name} ${this.#exited}`));
        this.#pending.clear();
        resolve();
      }),
    );
    this.#child.on('message', (reply: Reply) => {
      const p = this.#pending.get(reply.id);
      if (!p) return;
      this.#pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.value);
      else p.reject(new Error(`${this.name}: ${reply.error}`));
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  get exited(): string | undefined {
    return this.#exited;
  }

  call<T>(type: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    if (this.#exited) return Promise.reject(new Error(`${this.name} ${this.#exited}`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: no reply to '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#child.send({ ...params, type, id });
    });
  }

  /** Asks the child to stop (`stop` request), then SIGKILLs this child after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#exited) return;
    this.call('stop', {}, graceMs).catch(() => {});
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.#gone;
    clearTimeout(timer);
  }
}

/** Load generators (lib/ws-loadgen.ts, lib/socketio-loadgen.ts): closes every socket, bounded; the processes stay up. */
export async function closeLoaderSockets(loaders: readonly ChildHandle[]): Promise<void> {
  await Promise.all(loaders.map((lg) => lg.call('close', { timeoutMs: 10_000 }, 30_000).catch(() => {})));
}

/** Closes the load generators' sockets, then stops the processes. */
export async function stopLoaders(loaders: readonly ChildHandle[]): Promise<void> {
  await closeLoaderSockets(loaders);
  await Promise.all(loaders.map((lg) => lg.stop(10_000)));
}

/**
 * The child's side: calls `handle(request)` for every request and replies with its value or error;
 * a `stop` request runs `onStop` then exits. Exits when the parent disconnects, and after `hardLimitMs`.
 */
export function serveRequests(
  handle: (req: { type: string; id: number } & Record<string, unknown>) => Promise<unknown>,
  onStop: () => Promise<void>,
  hardLimitMs: number,
): void {
  process.on('message', (req: { type: string; id: number } & Record<string, unknown>) => {
    const run = req.type === 'stop' ? onStop().then(() => null) : handle(req);
    run.then(
      (value) => {
        process.send?.({ id: req.id, ok: true, value } satisfies Reply);
        if (req.type === 'stop') setTimeout(() => process.exit(0), 50);
      },
      (err: unknown) => process.send?.({ id: req.id, ok: false, error: String((err as Error)?.stack ?? err) }),
    );
  });
  process.on('disconnect', () => process.exit(1));
  setTimeout(() => process.exit(2), hardLimitMs).unref();
}
