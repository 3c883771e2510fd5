// A gateway or persister slot: the process is spawned from its main.ts as in production and can be
// signalled, paused and started again with the same environment (same SERVER_ID and port). Like
// docker-compose's `restart: unless-stopped`, a process that exits on its own (a gateway exits when
// another process holds its worker-id key) is started again, and the exit recorded.
import { setTimeout as sleep } from 'node:timers/promises';
import { type ServiceProcess, spawnService } from '@chat/testkit';
import type { UnaskedExit } from './history.js';

export class Service {
  readonly name: string;
  readonly kind: 'gateway' | 'persister';
  readonly #main: string;
  /** The environment every process of this slot gets. */
  readonly env: Readonly<Record<string, string>>;
  readonly #readyLine: string;
  readonly #onUnaskedExit: (e: UnaskedExit) => void;
  #proc: ServiceProcess | null = null;
  /** An exit was asked for (signal, stop): do not restart on it. */
  #asked = false;
  #stopped = false;
  #starting: Promise<void> | null = null;

  constructor(o: {
    name: string;
    kind: 'gateway' | 'persister';
    main: string;
    env: Record<string, string>;
    readyLine: string;
    onUnaskedExit: (e: UnaskedExit) => void;
  }) {
    this.name = o.name;
    this.kind = o.kind;
    this.#main = o.main;
    this.env = o.env;
    this.#readyLine = o.readyLine;
    this.#onUnaskedExit = o.onUnaskedExit;
  }

  get running(): boolean {
    const c = this.#proc?.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Spawns the process (no-op while it runs or starts); resolves once it logged its ready line. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.#starting ??= this.#spawn().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async #spawn(): Promise<void> {
    for (;;) {
      try {
        const proc = await spawnService({
          name: this.name,
          main: this.#main,
          env: { ...this.env },
          readyLine: this.#readyLine,
          timeoutMs: 120_000,
        });
        this.#proc = proc;
        this.#asked = false;
        void proc.exited.then((exit) => this.#exited(proc, exit));
        return;
      } catch (err) {
        // It exited while starting (a dependency down): try again, as a supervisor would.
        if (this.#stopped) throw err;
        await sleep(1_000);
      }
    }
  }

  #exited(proc: ServiceProcess, exit: number | string): void {
    if (this.#asked || this.#stopped || proc !== this.#proc) return;
    this.#onUnaskedExit({ service: this.name, at: Date.now(), exit, lastLines: proc.logs.slice(-3) });
    void sleep(1_000).then(() => (this.#stopped ? undefined : this.start().catch(() => undefined)));
  }

  /** Sends `signal`; for SIGKILL/SIGTERM resolves once the process exited (and is not restarted for it). */
  async signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    const proc = this.#proc!;
    if (signal === 'SIGKILL' || signal === 'SIGTERM') this.#asked = true;
    proc.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await proc.exited;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#starting?.catch(() => undefined);
    if (this.running) this.#proc!.kill('SIGCONT');
    await this.signal('SIGKILL');
  }
}
