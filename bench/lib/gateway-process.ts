// The parent's handle on a gateway-worker process: fork with the same loader flags, request/reply
// over IPC with a time limit per request, and a stop that kills the child if it does not leave.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerReply, WorkerRequest } from './gateway-worker.js';

const WORKER = fileURLToPath(new URL('./gateway-worker.ts', import.meta.url));

type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class GatewayProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #exited: string | undefined;

  constructor(name: string) {
    this.name = name;
    // Same loader flags as this process (`--conditions=@chat/source --import tsx`).
    this.#child = fork(WORKER, [], { execArgv: process.execArgv, serialization: 'advanced', stdio: 'inherit' });
    this.#child.on('message', (reply: WorkerReply) => {
      const p = this.#pending.get(reply.id);
      if (!p) return;
      this.#pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.value);
      else p.reject(new Error(`${this.name}: ${reply.error}`));
    });
    this.#child.on('exit', (code, signal) => {
      this.#exited = signal ? `killed by ${signal}` : `exited with ${code}`;
      for (const p of this.#pending.values()) p.reject(new Error(`${this.name} ${this.#exited}`));
      this.#pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Sends a request and resolves with the worker's reply value. */
  call<T>(request: Request, timeoutMs = 30_000): Promise<T> {
    if (this.#exited) return Promise.reject(new Error(`${this.name} ${this.#exited}`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: no reply to '${request.type}' within ${timeoutMs} ms`));
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
      this.#child.send({ ...request, id } as WorkerRequest);
    });
  }

  /** Asks the worker to close its router and exit; kills it (this child only) after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#exited) return;
    const gone = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.call({ type: 'stop' }, graceMs).catch(() => {});
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}
