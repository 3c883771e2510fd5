// What a result was measured on (the `System:` line) and what each process spent doing it
// (CPU time from /proc/<pid>/stat), because on a shared 2-core machine CPU is the real cost.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import amqp from 'amqplib';

export interface SystemInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  rabbitmq: string;
  /** `System: <cpu> × <cores> cores, <mem> GiB, Node <v>, RabbitMQ <v>` */
  line: string;
}

/** Describes this machine and the broker at `brokerUrl` (its version from the AMQP server properties). */
export async function systemInfo(brokerUrl: string): Promise<SystemInfo> {
  const cpuModel = cpuModelName();
  const cores = cpus().length;
  const memoryGiB = Math.round((totalmem() / 2 ** 30) * 10) / 10;
  const node = process.versions.node;
  const rabbitmq = await brokerVersion(brokerUrl).catch((err: unknown) => `unknown (${(err as Error).message})`);
  const line = `System: ${cpuModel} × ${cores} cores, ${memoryGiB} GiB RAM, Node ${node}, RabbitMQ ${rabbitmq}`;
  return { cpuModel, cores, memoryGiB, node, rabbitmq, line };
}

/** The System line without a broker, for scenarios that use none: `System: <cpu> × <cores> cores, <mem> GiB RAM, Node <v>`. */
export function machineLine(): string {
  const memoryGiB = Math.round((totalmem() / 2 ** 30) * 10) / 10;
  return `System: ${cpuModelName()} × ${cpus().length} cores, ${memoryGiB} GiB RAM, Node ${process.versions.node}`;
}

/** Prints the System line and returns it. */
export async function printSystem(brokerUrl: string): Promise<SystemInfo> {
  const info = await systemInfo(brokerUrl);
  console.log(info.line);
  return info;
}

function cpuModelName(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) return match[1].trim();
  } catch {
    // not Linux: fall through
  }
  return cpus()[0]?.model ?? 'unknown CPU';
}

/** The broker's version as it announces itself in connection.start (`server_properties.version`). */
export async function brokerVersion(url: string): Promise<string> {
  const conn = await amqp.connect(url, { clientProperties: { connection_name: 'bench-system-info' }, timeout: 5000 });
  conn.on('error', () => {});
  try {
    const props = conn.connection.serverProperties as { product?: unknown; version?: unknown };
    return String(props.version ?? 'unknown');
  } finally {
    await conn.close().catch(() => {});
  }
}

const RABBITMQCTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';

/**
 * OS pid of the system RabbitMQ node's beam.smp (`rabbitmqctl -q eval 'os:getpid().'`), or
 * undefined when rabbitmqctl cannot reach it. Called as root, with the system node's cookie.
 */
export function systemBrokerPid(): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile(
      RABBITMQCTL,
      ['-q', 'eval', 'os:getpid().'],
      { env: { ...process.env, HOME: '/var/lib/rabbitmq' }, timeout: 30_000, killSignal: 'SIGKILL' },
      (error, stdout) => {
        const pid = Number.parseInt(stdout.replace(/[^0-9]/g, ''), 10);
        resolve(error || !Number.isInteger(pid) || pid <= 0 ? undefined : pid);
      },
    );
  });
}

let ticksPerSecond: number | undefined;

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on Linux in practice). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(), 10) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU time (user + system) a process has used so far, in ms, or undefined when it is gone. */
export function cpuTimeMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1000) / clockTicks();
}

/** Named processes whose CPU is measured together; a name may stand for several pids (summed). */
export type ProcessSet = Record<string, number | readonly number[] | undefined>;

export interface CpuReading {
  wallMs: number;
  /** Per name: CPU time used over the interval as a percent of one core (200% = two cores busy). */
  percent: Record<string, number | undefined>;
  /** The whole machine (all processes, from /proc/stat), percent of one core. */
  machine: number | undefined;
  /** The machine minus the measured processes: load this run did not cause (other people's work). */
  others: number | undefined;
}

/** Busy and total jiffies of all CPUs together (first line of /proc/stat). */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return undefined;
  }
}

/** Measures CPU% of several processes over one interval: `const m = new CpuMeter({...}); …; m.stop()`. */
export class CpuMeter {
  readonly #procs: Array<[string, number[]]>;
  readonly #start: Map<string, number | undefined>;
  readonly #startedAt: number;
  readonly #allPids: number[];
  readonly #allStart: number | undefined;
  readonly #machineStart: ReturnType<typeof machineTicks>;

  constructor(procs: ProcessSet) {
    this.#procs = Object.entries(procs).map(([name, p]) => [
      name,
      p === undefined ? [] : typeof p === 'number' ? [p] : [...p],
    ]);
    this.#allPids = [...new Set(this.#procs.flatMap(([, pids]) => pids))];
    this.#start = new Map(this.#procs.map(([name, pids]) => [name, sumCpu(pids)]));
    this.#allStart = sumCpu(this.#allPids);
    this.#machineStart = machineTicks();
    this.#startedAt = performance.now();
  }

  stop(): CpuReading {
    const wallMs = performance.now() - this.#startedAt;
    const percent: Record<string, number | undefined> = {};
    const rate = (before: number | undefined, after: number | undefined) =>
      before === undefined || after === undefined || wallMs <= 0 ? undefined : ((after - before) / wallMs) * 100;
    for (const [name, pids] of this.#procs) percent[name] = rate(this.#start.get(name), sumCpu(pids));
    const ours = rate(this.#allStart, sumCpu(this.#allPids));
    const m0 = this.#machineStart;
    const m1 = machineTicks();
    // Busy share of all CPUs over the interval, scaled to "percent of one core" like the rest.
    const machine =
      m0 && m1 && m1.total > m0.total ? ((m1.busy - m0.busy) / (m1.total - m0.total)) * 100 * cpus().length : undefined;
    const others = machine === undefined || ours === undefined ? undefined : Math.max(0, machine - ours);
    return { wallMs, percent, machine, others };
  }
}

function sumCpu(pids: readonly number[]): number | undefined {
  if (pids.length === 0) return undefined;
  let total = 0;
  for (const pid of pids) {
    const t = cpuTimeMs(pid);
    if (t === undefined) return undefined;
    total += t;
  }
  return total;
}

/** One line on how busy the rest of the machine was while we measured (shared machine: read rows with this in mind). */
export function otherLoadNote(readings: readonly CpuReading[]): string {
  const values = readings.map((r) => r.others).filter((v): v is number => v !== undefined);
  if (values.length === 0) return 'CPU used by other processes on the machine: unknown.';
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted[sorted.length >> 1]!;
  return (
    `Other processes on this shared machine used ${Math.round(sorted[0]!)}–${Math.round(sorted[sorted.length - 1]!)}% of one core ` +
    `during the measured intervals (median ${Math.round(mid)}%, 'other CPU' column); rows where it is high were disturbed.`
  );
}

/** A run during which other processes used more than this (% of one core) counts as disturbed. */
export const DISTURBED_PCT = 30;

export interface QuietWait {
  waitedMs: number;
  quiet: boolean;
  /** CPU other processes used in the last sample, % of one core. */
  others: number | undefined;
}

/**
 * Waits (at most `maxWaitMs`) until other processes on the machine use less than `thresholdPct` of
 * a core for two consecutive one-second samples: on a shared machine, start measuring in a lull.
 * `procs` are ours (not counted as others). Proceeds anyway after the wait; the caller reports it.
 */
export async function waitForQuiet(
  procs: ProcessSet,
  maxWaitMs = 60_000,
  thresholdPct = DISTURBED_PCT,
): Promise<QuietWait> {
  const started = performance.now();
  let streak = 0;
  let others: number | undefined;
  for (;;) {
    const meter = new CpuMeter(procs);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    others = meter.stop().others;
    streak = others !== undefined && others < thresholdPct ? streak + 1 : 0;
    const waitedMs = performance.now() - started;
    if (streak >= 2 || others === undefined) return { waitedMs, quiet: true, others };
    if (waitedMs >= maxWaitMs) return { waitedMs, quiet: false, others };
  }
}

/** Resident memory of a process (VmRSS from /proc/<pid>/status) in KiB, or undefined when it is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
