// Starts throw-away RabbitMQ nodes and clusters from the Debian install, as root, next to the
// system node (docs/design.md §8): each node gets its own name, ports, data and log dirs and config;
// all share a temporary HOME whose .erlang.cookie both the servers and rabbitmqctl use.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Logger, silentLogger } from '@chat/protocol';
import amqp from 'amqplib';
import { RabbitNodeError } from './errors.js';
import { registerAmqpPort } from './internal/amqp-ports.js';
import { type CliTool, parseJsonRows, RABBITMQ_BIN_DIR, runCli } from './internal/cli.js';
import { closeClientConnections, listExchanges, listQueues } from './rabbit.js';

/** Options of startRabbitNode and startRabbitCluster. */
export interface RabbitNodeOptions {
  /** Lines appended to each node's generated rabbitmq.conf. Default: none. */
  extraConfig?: string;
  /** Directory the per-run temporary directory is created in. Default: os.tmpdir(). */
  tmpDir?: string;
  /** How long one node may take to boot (at start and at every startNode). Default: 90_000 ms. */
  startTimeoutMs?: number;
  /** Receives progress (debug) and cleanup problems (warn). Default: silent. */
  logger?: Logger;
  /**
   * Plugins written to each node's enabled_plugins file, e.g. ['rabbitmq_prometheus']. Default:
   * none. rabbitmq_prometheus and rabbitmq_management listen on a free loopback port per node
   * (`prometheusPorts`, `managementPorts`), never on 15692/15672 where the system node may be.
   */
  enabledPlugins?: readonly string[];
}

/** Options of startRabbitCluster. */
export interface RabbitClusterOptions extends RabbitNodeOptions {
  /** Number of nodes. Default: 3. */
  size?: number;
}

/** Which node leads a quorum queue. */
export interface QuorumLeader {
  /** Index into urls/nodeNames. */
  index: number;
  nodeName: string;
}

/**
 * Nodes testkit started and owns. Node indexes are 0-based and follow `urls`/`nodeNames`.
 * Every method that waits has a bound; failures reject with the CLI's stderr or the node's
 * console output in the message.
 */
export interface RabbitCluster extends AsyncDisposable {
  /** amqp://guest:guest@127.0.0.1:<port> per node. */
  readonly urls: readonly string[];
  /** Erlang node names, e.g. 'tk1234abcdn1@localhost'. */
  readonly nodeNames: readonly string[];
  /** AMQP port per node. */
  readonly ports: readonly number[];
  /** Port of the rabbitmq_prometheus listener (GET /metrics) per node; empty unless that plugin is enabled. */
  readonly prometheusPorts: readonly number[];
  /** Port of the management listener per node; empty unless rabbitmq_management is enabled. */
  readonly managementPorts: readonly number[];
  /** Environment (HOME with the shared cookie) for running RabbitMQ CLI tools against these nodes yourself. */
  readonly cliEnv: Readonly<NodeJS.ProcessEnv>;
  /** Whether node i's OS process is up (it may still be booting). */
  isRunning(i: number): boolean;
  /** The beam.smp OS pid of node i while it runs. */
  osPid(i: number): number | undefined;
  /** Graceful `rabbitmqctl stop`; resolves once the OS process is gone. No-op when stopped. */
  stopNode(i: number): Promise<void>;
  /** SIGKILLs node i's beam.smp; resolves once the OS process is gone. No-op when stopped. */
  killNode(i: number): Promise<void>;
  /**
   * Restarts node i with its data dir and ports and waits for boot; a cluster member rejoins the
   * cluster (its mnesia knows it) and this resolves once the first other running node reports it
   * running. No-op when running.
   */
  startNode(i: number): Promise<void>;
  /** Force-closes client connections on node i (those whose connection_name starts with namePrefix). Resolves with how many. */
  closeClientConnections(i: number, namePrefix?: string): Promise<number>;
  /** Runs `rabbitmqctl -n <node i> ...args` and resolves with stdout. */
  rabbitmqctl(i: number, ...args: string[]): Promise<string>;
  /** Runs `rabbitmq-queues -n <node i> ...args` and resolves with stdout. */
  rabbitmqQueues(i: number, ...args: string[]): Promise<string>;
  /** Which node leads the quorum queue now, as its Raft members report it; waits up to 15 s for an election. */
  quorumLeader(queueName: string, vhost?: string): Promise<QuorumLeader>;
  /** Ready messages in the queue (queue.declare-ok on a running node; unacknowledged ones are not counted). */
  queueMessageCount(queueName: string, vhost?: string): Promise<number>;
  /** Queues on node i (default: the first running node) whose name starts with prefix. */
  listQueues(prefix: string, i?: number, vhost?: string): Promise<string[]>;
  /** Exchanges on node i (default: the first running node) whose name starts with prefix. */
  listExchanges(prefix: string, i?: number, vhost?: string): Promise<string[]>;
  /** Kills every node and removes the temporary directory. Idempotent. */
  stop(): Promise<void>;
}

/** A single node: a cluster of one, with its URL and name at hand. */
export interface RabbitNode extends RabbitCluster {
  readonly url: string;
  readonly nodeName: string;
}

interface NodeState {
  readonly index: number;
  readonly name: string;
  readonly amqpPort: number;
  readonly distPort: number;
  readonly prometheusPort: number | undefined;
  readonly managementPort: number | undefined;
  readonly dir: string;
  readonly url: string;
  child: ChildProcess | undefined;
  /** The shell wrapper's pid, which is also the process group of the whole node (spawned detached). */
  groupId: number | undefined;
  beamPid: number | undefined;
  exit: string | undefined;
}

const SERVER = join(RABBITMQ_BIN_DIR, 'rabbitmq-server');
const PORT_MIN = 20_000;
/** Below Linux's ephemeral range (32768+), where outgoing connections and rabbitmqctl (35672-35682) take ports. */
const PORT_MAX = 32_000;
const RESERVED_PORTS = new Set([4369, 5672, 15672, 15692, 25672]);
const TMP_PREFIX = 'testkit-rabbit-';
const LOOPBACK_DIST = '-kernel inet_dist_use_interface {127,0,0,1}';

type ResolvedOptions = Readonly<Required<Omit<RabbitNodeOptions, 'logger'>> & { logger: Logger }>;

const allocatedPorts = new Set<number>();
const liveSets = new Set<RabbitNodeSet>();
let hooksInstalled = false;

/** Starts one node and resolves once it accepts AMQP connections. Call `stop()` when done. */
export async function startRabbitNode(options: RabbitNodeOptions = {}): Promise<RabbitNode> {
  const set = await RabbitNodeSet.create(1, options);
  try {
    await set.bootAll();
  } catch (error) {
    await set.stop();
    throw error;
  }
  return Object.assign(set, { url: set.urls[0]!, nodeName: set.nodeNames[0]! });
}

/**
 * Starts `size` nodes in parallel, joins nodes 2..n to node 1 (stop_app, reset, join_cluster,
 * start_app) and resolves once node 1 reports all of them running. Call `stop()` when done.
 */
export async function startRabbitCluster(options: RabbitClusterOptions = {}): Promise<RabbitCluster> {
  const size = options.size ?? 3;
  if (!Number.isInteger(size) || size < 1 || size > 9) throw new RangeError(`size must be 1..9, got ${size}`);
  const set = await RabbitNodeSet.create(size, options);
  try {
    await set.bootAll();
    await set.formCluster();
  } catch (error) {
    await set.stop();
    throw error;
  }
  return set;
}

class RabbitNodeSet implements RabbitCluster {
  readonly urls: readonly string[];
  readonly nodeNames: readonly string[];
  readonly ports: readonly number[];
  readonly prometheusPorts: readonly number[];
  readonly managementPorts: readonly number[];
  readonly cliEnv: Readonly<NodeJS.ProcessEnv>;
  readonly #root: string;
  readonly #nodes: readonly NodeState[];
  readonly #options: ResolvedOptions;
  #stopped = false;

  private constructor(root: string, nodes: NodeState[], options: ResolvedOptions) {
    this.#root = root;
    this.#nodes = nodes;
    this.#options = options;
    this.urls = Object.freeze(nodes.map((n) => n.url));
    this.nodeNames = Object.freeze(nodes.map((n) => n.name));
    this.ports = Object.freeze(nodes.map((n) => n.amqpPort));
    this.prometheusPorts = Object.freeze(
      nodes.flatMap((n) => (n.prometheusPort === undefined ? [] : [n.prometheusPort])),
    );
    this.managementPorts = Object.freeze(
      nodes.flatMap((n) => (n.managementPort === undefined ? [] : [n.managementPort])),
    );
    this.cliEnv = Object.freeze({
      ...unsetInherited(),
      HOME: root,
      RABBITMQ_CONF_ENV_FILE: join(root, 'rabbitmq-env.conf'),
      RABBITMQ_CTL_ERL_ARGS: LOOPBACK_DIST,
    });
  }

  static async create(size: number, options: RabbitNodeOptions): Promise<RabbitNodeSet> {
    installExitHooks();
    sweepOrphans();
    const resolved: ResolvedOptions = {
      extraConfig: options.extraConfig ?? '',
      tmpDir: options.tmpDir ?? tmpdir(),
      startTimeoutMs: options.startTimeoutMs ?? 90_000,
      logger: options.logger ?? silentLogger,
      enabledPlugins: options.enabledPlugins ?? [],
    };
    for (const plugin of resolved.enabledPlugins) {
      if (!/^[a-z][a-z0-9_]*$/.test(plugin)) throw new RangeError(`not a plugin name: '${plugin}'`);
    }
    // The owner pid in the directory name lets a later run reap nodes a SIGKILLed run left behind.
    const root = mkdtempSync(join(resolved.tmpDir, `${TMP_PREFIX}${process.pid}-`));
    const base = `tk${process.pid}${randomBytes(3).toString('hex')}`;
    const nodes: NodeState[] = [];
    try {
      writeFileSync(join(root, '.erlang.cookie'), randomBytes(15).toString('hex').toUpperCase(), { mode: 0o400 });
      writeFileSync(join(root, 'rabbitmq-env.conf'), '# testkit: no settings; the environment says it all\n');
      for (let index = 0; index < size; index += 1) {
        const amqpPort = await allocatePort();
        const distPort = await allocatePort();
        const prometheusPort = resolved.enabledPlugins.includes('rabbitmq_prometheus')
          ? await allocatePort()
          : undefined;
        const managementPort = resolved.enabledPlugins.includes('rabbitmq_management')
          ? await allocatePort()
          : undefined;
        registerAmqpPort(amqpPort);
        const name = `${base}n${index + 1}@localhost`;
        const dir = join(root, `n${index + 1}`);
        mkdirSync(join(dir, 'log'), { recursive: true });
        mkdirSync(join(dir, 'mnesia'), { recursive: true });
        writeFileSync(join(dir, 'enabled_plugins'), `[${resolved.enabledPlugins.join(',')}].\n`);
        writeFileSync(
          join(dir, 'rabbitmq.conf'),
          [
            `listeners.tcp.1 = 127.0.0.1:${amqpPort}`,
            // Plugins only when asked for, each listener on its own port: never 15672/15692.
            ...(prometheusPort === undefined
              ? []
              : ['prometheus.tcp.ip = 127.0.0.1', `prometheus.tcp.port = ${prometheusPort}`]),
            ...(managementPort === undefined
              ? []
              : ['management.tcp.ip = 127.0.0.1', `management.tcp.port = ${managementPort}`]),
            'log.console = false',
            'log.file.level = info',
            resolved.extraConfig,
            '',
          ].join('\n'),
        );
        nodes.push({
          index,
          name,
          amqpPort,
          distPort,
          prometheusPort,
          managementPort,
          dir,
          url: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
          child: undefined,
          groupId: undefined,
          beamPid: undefined,
          exit: undefined,
        });
      }
    } catch (error) {
      for (const n of nodes) releasePorts(n);
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
    const set = new RabbitNodeSet(root, nodes, resolved);
    liveSets.add(set);
    return set;
  }

  async bootAll(): Promise<void> {
    // Settle every boot before reporting, so a caller's stop() never races a boot in flight.
    const results = await Promise.allSettled(this.#nodes.map((n) => this.#boot(n)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async formCluster(): Promise<void> {
    const [first, ...rest] = this.#nodes;
    if (!first) return;
    const started = Date.now();
    const step = async (n: NodeState, args: string[]) => {
      const t = Date.now();
      await this.#ctl(n, args);
      this.#options.logger.debug({ node: n.name, step: args[0], ms: Date.now() - t }, 'testkit: step');
    };
    // Each CLI call costs ~0.5 s of CPU, so what can overlap does: stopping and resetting the
    // joiners, and starting their apps. join_cluster goes one node at a time, as mnesia expects.
    await Promise.all(
      rest.map(async (n) => {
        await step(n, ['stop_app']);
        await step(n, ['reset']);
      }),
    );
    for (const n of rest) await step(n, ['join_cluster', first.name]);
    await Promise.all(rest.map((n) => step(n, ['start_app'])));
    await this.#awaitRunningInCluster(first, this.nodeNames);
    this.#options.logger.debug({ nodes: this.nodeNames, ms: Date.now() - started }, 'testkit: cluster formed');
  }

  isRunning(i: number): boolean {
    const n = this.#node(i);
    return n.child !== undefined && n.exit === undefined;
  }

  osPid(i: number): number | undefined {
    return this.isRunning(i) ? this.#node(i).beamPid : undefined;
  }

  async stopNode(i: number): Promise<void> {
    const n = this.#node(i);
    if (!this.isRunning(i)) return;
    try {
      await this.#ctl(n, ['stop']);
    } catch (error) {
      if (this.isRunning(i)) throw error;
    }
    await this.#awaitExit(n, 60_000);
  }

  async killNode(i: number): Promise<void> {
    const n = this.#node(i);
    if (!this.isRunning(i)) return;
    await this.#terminate(n);
  }

  async startNode(i: number): Promise<void> {
    const n = this.#node(i);
    if (this.#stopped) throw new RabbitNodeError('this cluster was stopped');
    if (this.isRunning(i)) return;
    await this.#boot(n);
    const peer = this.#nodes.find((m) => m !== n && this.isRunning(m.index));
    if (peer) await this.#awaitRunningInCluster(peer, [n.name]);
  }

  closeClientConnections(i: number, namePrefix?: string): Promise<number> {
    const n = this.#node(i);
    return closeClientConnections({
      node: n.name,
      env: this.cliEnv,
      ...(namePrefix === undefined ? {} : { namePrefix }),
    });
  }

  rabbitmqctl(i: number, ...args: string[]): Promise<string> {
    return this.#ctl(this.#node(i), args);
  }

  rabbitmqQueues(i: number, ...args: string[]): Promise<string> {
    return this.#ctl(this.#node(i), args, 'rabbitmq-queues');
  }

  async quorumLeader(queueName: string, vhost = '/'): Promise<QuorumLeader> {
    const deadline = Date.now() + 15_000;
    let last = '';
    for (;;) {
      const n = this.#firstRunning();
      try {
        const out = await this.#ctl(
          n,
          ['-q', 'quorum_status', '--vhost', vhost, queueName, '--formatter', 'json'],
          'rabbitmq-queues',
        );
        const rows = parseJsonRows(out, 'rabbitmq-queues quorum_status');
        const leader = rows.find((row) => row['Raft State'] === 'leader');
        const index = this.nodeNames.indexOf(String(leader?.['Node Name']));
        if (index >= 0) return { index, nodeName: this.nodeNames[index]! };
        last = `no leader among ${JSON.stringify(rows)}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() >= deadline)
        throw new RabbitNodeError(`no leader for quorum queue '${queueName}' within 15 s: ${last}`);
      await sleep(200);
    }
  }

  async queueMessageCount(queueName: string, vhost = '/'): Promise<number> {
    const n = this.#firstRunning();
    const url = vhost === '/' ? n.url : `${n.url}/${encodeURIComponent(vhost)}`;
    const connection = await amqp.connect(url, { clientProperties: { connection_name: 'testkit-message-count' } });
    connection.on('error', () => {});
    try {
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      const { messageCount } = await channel.checkQueue(queueName);
      await channel.close();
      return messageCount;
    } finally {
      await connection.close().catch(() => {});
    }
  }

  listQueues(prefix: string, i?: number, vhost = '/'): Promise<string[]> {
    const n = i === undefined ? this.#firstRunning() : this.#node(i);
    return listQueues(prefix, { node: n.name, env: this.cliEnv, vhost });
  }

  listExchanges(prefix: string, i?: number, vhost = '/'): Promise<string[]> {
    const n = i === undefined ? this.#firstRunning() : this.#node(i);
    return listExchanges(prefix, { node: n.name, env: this.cliEnv, vhost });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // The data goes away with the directory, so there is nothing a graceful stop would save.
    await Promise.all(
      this.#nodes.map((n) =>
        this.#terminate(n).catch((error) => this.#options.logger.warn({ err: error }, 'testkit: node did not exit')),
      ),
    );
    for (const n of this.#nodes) releasePorts(n);
    liveSets.delete(this);
    rmSync(this.#root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** Synchronous last resort at process exit: SIGKILL every beam.smp, give the wrappers a moment to reap them, delete. */
  killSync(): void {
    this.#stopped = true;
    const beams = this.#nodes.flatMap((n) => (n.child !== undefined && n.exit === undefined ? beamPids(n) : []));
    for (const pid of beams) signal(pid, 'SIGKILL');
    const deadline = Date.now() + 2000;
    while (beams.some(exists) && Date.now() < deadline) {
      // Busy wait: nothing asynchronous runs in an 'exit' handler.
    }
    try {
      rmSync(this.#root, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
    } catch {
      // A beam may still be writing for a moment; the next run's sweep removes the rest.
    }
  }

  #node(i: number): NodeState {
    const n = this.#nodes[i];
    if (!n) throw new RangeError(`no node ${i}: this cluster has nodes 0..${this.#nodes.length - 1}`);
    return n;
  }

  #firstRunning(): NodeState {
    const n = this.#nodes.find((m) => this.isRunning(m.index));
    if (!n) throw new RabbitNodeError('no node of this cluster is running');
    return n;
  }

  #ctl(n: NodeState, args: readonly string[], tool: CliTool = 'rabbitmqctl', timeoutMs = 120_000): Promise<string> {
    return runCli(tool, args, { node: n.name, env: this.cliEnv, timeoutMs });
  }

  #spawn(n: NodeState): void {
    const out = openSync(join(n.dir, 'log', 'console.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(SERVER, [], {
        cwd: n.dir,
        env: this.#serverEnv(n),
        // Own process group: one kill reaches the shell wrapper, beam.smp and its helpers.
        detached: true,
        stdio: ['ignore', out, out],
      });
    } finally {
      closeSync(out);
    }
    n.child = child;
    n.groupId = child.pid;
    n.beamPid = undefined;
    n.exit = undefined;
    child.once('error', (error) => {
      if (n.child === child) n.exit ??= `spawn failed: ${error.message}`;
    });
    child.once('exit', (code, signal) => {
      if (n.child === child) n.exit ??= signal ? `killed by ${signal}` : `exited with ${code}`;
    });
    // A forgotten node must not keep the test process alive; the exit hook kills it.
    child.unref();
  }

  #serverEnv(n: NodeState): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.cliEnv };
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
    return {
      ...env,
      RABBITMQ_NODENAME: n.name,
      RABBITMQ_NODE_PORT: String(n.amqpPort),
      RABBITMQ_DIST_PORT: String(n.distPort),
      RABBITMQ_MNESIA_BASE: join(n.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(n.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(n.dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(n.dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(n.dir, 'enabled_plugins'),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: LOOPBACK_DIST,
      ERL_EPMD_ADDRESS: '127.0.0.1',
    };
  }

  async #boot(n: NodeState): Promise<void> {
    const started = Date.now();
    const deadline = started + this.#options.startTimeoutMs;
    this.#spawn(n);
    try {
      // Poll epmd (cheap, in-process) until the node registers; only then is rabbitmqctl useful.
      const shortName = n.name.slice(0, n.name.indexOf('@'));
      while (!(await epmdHasName(shortName))) {
        if (n.exit !== undefined) throw new RabbitNodeError(`${n.name} ${n.exit} while booting`);
        if (Date.now() >= deadline) throw new RabbitNodeError(`${n.name} did not register with epmd in time`);
        await sleep(100);
      }
      const seconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
      // The VM answers eval while rabbit is still booting: ask for its OS pid in the meantime.
      const [, out] = await Promise.all([
        this.#ctl(n, ['await_startup', '--timeout', String(seconds)], 'rabbitmqctl', seconds * 1000 + 10_000),
        this.#ctl(n, ['eval', 'os:getpid().']),
      ]);
      const pid = Number.parseInt(out.replace(/[^0-9]/g, ''), 10);
      if (!Number.isInteger(pid) || pid <= 0)
        throw new RabbitNodeError(`${n.name}: unexpected os:getpid() output '${out}'`);
      n.beamPid = pid;
    } catch (error) {
      await this.#terminate(n).catch(() => {});
      throw new RabbitNodeError(`${n.name} failed to start: ${(error as Error).message}\n${this.#consoleTail(n)}`, {
        cause: error,
      });
    }
    this.#options.logger.debug({ node: n.name, port: n.amqpPort, ms: Date.now() - started }, 'testkit: node started');
  }

  #consoleTail(n: NodeState): string {
    const parts: string[] = [];
    for (const file of ['console.log', `${n.name}.log`]) {
      try {
        const text = readFileSync(join(n.dir, 'log', file), 'utf8');
        parts.push(`--- ${file} (tail) ---\n${text.slice(-3000)}`);
      } catch {
        // not written yet
      }
    }
    return parts.join('\n');
  }

  async #awaitRunningInCluster(peer: NodeState, names: readonly string[]): Promise<void> {
    const deadline = Date.now() + this.#options.startTimeoutMs;
    let last = '';
    for (;;) {
      try {
        const out = await this.#ctl(peer, ['-q', 'cluster_status', '--formatter', 'json']);
        const running = (JSON.parse(out) as { running_nodes?: unknown }).running_nodes;
        const missing = names.filter((name) => !Array.isArray(running) || !running.includes(name));
        if (missing.length === 0) return;
        last = `running: ${JSON.stringify(running)}, missing: ${missing.join(', ')}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() >= deadline)
        throw new RabbitNodeError(`cluster_status on ${peer.name} never showed all nodes running: ${last}`);
      await sleep(250);
    }
  }

  /**
   * SIGKILLs beam.smp and waits for the shell wrapper (our child) to reap it and exit. The order
   * matters: killing the wrapper first would orphan beam.smp to pid 1, which here reaps nothing,
   * leaving a zombie beam behind. erl_child_setup and inet_gethost exit by themselves.
   */
  async #terminate(n: NodeState, timeoutMs = 15_000): Promise<void> {
    if (n.child === undefined || n.exit !== undefined) return;
    for (const pid of beamPids(n)) signal(pid, 'SIGKILL');
    await this.#awaitExit(n, timeoutMs);
  }

  /** Resolves once the shell wrapper has exited, which it does right after beam.smp exits. */
  async #awaitExit(n: NodeState, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (n.child !== undefined && n.exit === undefined) {
      if (Date.now() >= deadline) {
        // Only while the wrapper is unreaped is its pid (the group id) certainly still ours.
        if (n.groupId !== undefined) signal(-n.groupId, 'SIGKILL');
        throw new RabbitNodeError(
          `${n.name} (pid ${n.beamPid}) still running after ${timeoutMs} ms; killed its process group`,
        );
      }
      await sleep(25);
    }
  }
}

/** beam.smp of a node: the pid it reported, or else the wrapper's children (the `erl` exec chain ends in beam.smp). */
function beamPids(n: NodeState): number[] {
  if (n.beamPid !== undefined) return [n.beamPid];
  if (n.groupId === undefined) return [];
  try {
    return readFileSync(`/proc/${n.groupId}/task/${n.groupId}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Whether the pid exists at all, zombie or not. */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** True while the process exists and is not a zombie waiting to be reaped. */
function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** RABBITMQ_* and ERL_* variables of the caller's environment must not reach our nodes. */
function unsetInherited(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('RABBITMQ_') || key.startsWith('ERL_')) env[key] = undefined;
  }
  return env;
}

async function allocatePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = PORT_MIN + Math.floor(Math.random() * (PORT_MAX - PORT_MIN));
    if (RESERVED_PORTS.has(port) || allocatedPorts.has(port)) continue;
    allocatedPorts.add(port);
    if (await canListen(port)) return port;
    allocatedPorts.delete(port);
  }
  throw new RabbitNodeError(`no free port found in ${PORT_MIN}..${PORT_MAX}`);
}

function releasePorts(n: NodeState): void {
  for (const port of [n.amqpPort, n.distPort, n.prometheusPort, n.managementPort]) {
    if (port !== undefined) allocatedPorts.delete(port);
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Asks epmd (NAMES_REQ) whether a node of this short name is registered. */
function epmdHasName(shortName: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port: 4369, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('connect', () => socket.write(Buffer.from([0, 1, 110])));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      // Reply: 4-byte epmd port, then lines "name <name> at port <port>".
      const names = Buffer.concat(chunks).subarray(4).toString('utf8');
      resolve(names.split('\n').some((line) => line.startsWith(`name ${shortName} at port `)));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = () => {
    for (const set of liveSets) set.killSync();
    liveSets.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll();
      // Alone, restore the default (terminate); otherwise the other listeners decide.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

/**
 * Kills nodes and removes directories that a run killed with SIGKILL left behind: beam.smp
 * processes whose -home is <tmp>/testkit-rabbit-<pid>-* for a pid that no longer exists.
 */
function sweepOrphans(): void {
  const entries = safeReaddir('/proc');
  const pattern = new RegExp(`-home\\0(${escapeRegExp(tmpdir())}/${TMP_PREFIX}(\\d+)-[^\\0]+)`);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes('beam.smp')) continue;
    const match = pattern.exec(cmdline);
    if (!match || isAlive(Number(match[2]))) continue;
    signal(Number(entry), 'SIGKILL');
  }
  for (const name of safeReaddir(tmpdir())) {
    const owner = /^testkit-rabbit-(\d+)-/.exec(name)?.[1];
    if (owner === undefined || isAlive(Number(owner))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
