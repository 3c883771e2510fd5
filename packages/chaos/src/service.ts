// A gateway or persister slot: the process is spawned from its main.ts as in production and can be
// signalled, paused and started again with the same environment (same SERVER_ID and port).
import { type ServiceProcess, spawnService } from '@chat/testkit';

export class Service {
  readonly name: string;
  readonly kind: 'gateway' | 'persister';
  readonly #main: string;
  /** The environment every process of this slot gets. */
  readonly env: Readonly<Record<string, string>>;
  readonly #readyLine: string;
  #proc: ServiceProcess | null = null;
  /** Log lines of every process this slot ran, oldest first (for the story of a violation). */
  readonly logs: string[][] = [];

  constructor(o: {
    name: string;
    kind: 'gateway' | 'persister';
    main: string;
    env: Record<string, string>;
    readyLine: string;
  }) {
    this.name = o.name;
    this.kind = o.kind;
    this.#main = o.main;
    this.env = o.env;
    this.#readyLine = o.readyLine;
  }

  get running(): boolean {
    const c = this.#proc?.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.#proc!.child.pid : undefined;
  }

  /** Spawns the process (no-op while it runs); resolves once it logged its ready line. */
  async start(): Promise<void> {
    if (this.running) return;
    this.#proc = await spawnService({
      name: this.name,
      main: this.#main,
      env: { ...this.env },
      readyLine: this.#readyLine,
      timeoutMs: 120_000,
    });
    this.logs.push(this.#proc.logs);
  }

  /** Sends `signal`; for SIGKILL/SIGTERM resolves once the process exited. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    const proc = this.#proc!;
    proc.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await proc.exited;
  }

  async stop(): Promise<void> {
    if (this.running) this.#proc!.kill('SIGCONT');
    await this.signal('SIGKILL');
  }
}
