// Runs Debian's Prometheus on the shipped scrape configuration of infra/prometheus, rendered for
// local ports: the job names and scrape settings stay those of the shipped file (one source of
// truth), only the docker target lists and the intervals are replaced.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from './processes.js';

/** The shipped scrape configuration (what docker-compose.yml mounts into the Prometheus container). */
export const PROMETHEUS_CONFIG = fileURLToPath(new URL('../../../infra/prometheus/prometheus.yml', import.meta.url));

export interface RenderPrometheusOptions {
  /**
   * Local targets (`host:port`) per job of the shipped file. Every job of the file must be given,
   * and no other: a job added to the file without a local target fails here, not silently.
   */
  targets: Readonly<Record<string, readonly string[]>>;
  /** Replaces every `scrape_interval` and `evaluation_interval` (e.g. '1s'). Default: as shipped. */
  scrapeInterval?: string;
  /** Replaces every `scrape_timeout`. Default: `scrapeInterval` when that is given, else as shipped. */
  scrapeTimeout?: string;
  /** The configuration text. Default: the shipped file. */
  source?: string;
  /** Where relative `rule_files` entries are read from. Default: the shipped file's directory. */
  rulesDir?: string;
}

const JOB = /^ {2}- job_name:\s*['"]?([^'"\s#]+)['"]?\s*(#.*)?$/;
const TOP_LEVEL = /^[A-Za-z_][\w-]*:/;
/** Service-discovery and static target blocks, at the job's key indentation (4 spaces). */
const TARGET_BLOCK = /^ {4}(static_configs|[a-z0-9_]+_sd_configs):/;

function shippedText(source: string | undefined): string {
  return source ?? readFileSync(PROMETHEUS_CONFIG, 'utf8');
}

/** Job names of a scrape configuration in the shipped file's layout (two-space YAML), in file order. */
export function prometheusJobs(source?: string): string[] {
  const jobs: string[] = [];
  let inScrapeConfigs = false;
  for (const line of shippedText(source).split('\n')) {
    if (TOP_LEVEL.test(line)) inScrapeConfigs = line.startsWith('scrape_configs:');
    const job = inScrapeConfigs ? JOB.exec(line) : null;
    if (job) jobs.push(job[1]!);
  }
  if (new Set(jobs).size !== jobs.length) throw new Error(`duplicate job names in ${jobs.join(', ')}`);
  return jobs;
}

/**
 * The configuration with each job's target lists replaced by `static_configs` of local targets,
 * the intervals overridden and relative `rule_files` made absolute (`rulesDir`), since the rendered
 * file is written elsewhere. Everything else (job names, metrics_path, params, relabelling) is
 * kept as shipped. Throws when the jobs of the file and of `targets` differ, or when a job has
 * no target block to replace.
 */
export function renderPrometheusConfig(o: RenderPrometheusOptions): string {
  const text = shippedText(o.source);
  const jobs = prometheusJobs(text);
  const missing = jobs.filter((j) => !(j in o.targets));
  const unknown = Object.keys(o.targets).filter((j) => !jobs.includes(j));
  if (missing.length > 0 || unknown.length > 0) {
    throw new Error(
      `local targets must cover exactly the shipped jobs (${jobs.join(', ')}): ` +
        `missing ${missing.join(', ') || 'none'}, unknown ${unknown.join(', ') || 'none'}`,
    );
  }
  const timeout = o.scrapeTimeout ?? o.scrapeInterval;
  const rulesDir = o.rulesDir ?? dirname(PROMETHEUS_CONFIG);
  const out: string[] = [];
  let section = '';
  let job: string | undefined;
  let replaced = false;
  let skipping = false;
  const closeJob = () => {
    if (job !== undefined && !replaced) throw new Error(`job ${job} has no static_configs or *_sd_configs to replace`);
    job = undefined;
  };
  for (const line of text.split('\n')) {
    if (skipping) {
      // A block lasts while lines are indented deeper than its key; blank lines and comments stay.
      if (/^\s*(#.*)?$/.test(line)) {
        out.push(line);
        continue;
      }
      if (/^ {5,}/.test(line) || /^ {4}- /.test(line)) continue;
      skipping = false;
    }
    if (TOP_LEVEL.test(line)) {
      closeJob();
      section = line.slice(0, line.indexOf(':'));
    }
    const jobMatch = section === 'scrape_configs' ? JOB.exec(line) : null;
    if (jobMatch) {
      closeJob();
      job = jobMatch[1]!;
      replaced = false;
    }
    if (job !== undefined && TARGET_BLOCK.test(line)) {
      skipping = true;
      if (!replaced) {
        replaced = true;
        const targets = o.targets[job]!.map((t) => `'${t}'`).join(', ');
        out.push('    static_configs:', `      - targets: [${targets}]`);
      }
      continue;
    }
    let kept = line;
    if (section === 'rule_files') {
      const rule = /^(\s*-\s*)['"]?([^'"#\s]+)['"]?\s*$/.exec(line);
      if (rule && !isAbsolute(rule[2]!)) kept = `${rule[1]}'${join(rulesDir, rule[2]!)}'`;
    }
    if (o.scrapeInterval !== undefined) {
      kept = kept.replace(/^(\s+(?:scrape_interval|evaluation_interval):\s*)\S+/, `$1${o.scrapeInterval}`);
    }
    if (timeout !== undefined) kept = kept.replace(/^(\s+scrape_timeout:\s*)\S+/, `$1${timeout}`);
    out.push(kept);
  }
  closeJob();
  return out.join('\n');
}

/** One sample of an instant-vector query result. */
export interface PrometheusSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PrometheusTarget {
  job: string;
  instance: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

export interface PrometheusRule {
  group: string;
  /** The alert's name, or the recorded series' name. */
  name: string;
  type: 'alerting' | 'recording';
  /** 'unknown' until first evaluated; 'err' when the expression failed (see lastError). */
  health: 'ok' | 'err' | 'unknown';
  lastError: string;
  /** Alerting rules: 'inactive', 'pending' or 'firing'. */
  state?: string;
}

export interface Prometheus {
  readonly url: string;
  readonly port: number;
  readonly configPath: string;
  /** GET /api/v1/query: the instant vector (or scalar as one sample); rejects on a query error. */
  query(expr: string): Promise<PrometheusSample[]>;
  /** GET /api/v1/targets: the active targets and their health. */
  targets(): Promise<PrometheusTarget[]>;
  /** GET /api/v1/rules: every loaded rule, its group, and the health of its last evaluation. */
  rules(): Promise<PrometheusRule[]>;
  /** The last lines Prometheus wrote (warnings and errors). */
  logs(): string;
  /** SIGTERM, SIGKILL after 5 s; removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** The configuration text, e.g. from renderPrometheusConfig. */
  config: string;
  /** Listen port on 127.0.0.1. Default: a free port. */
  port?: number;
  /** Default /usr/bin/prometheus (Debian package). */
  binary?: string;
  /** How long to wait for /-/ready. Default 30 000 ms. */
  startTimeoutMs?: number;
}

/**
 * Starts Prometheus as a child process with its own TSDB directory and listen address, and
 * resolves once it reports ready. Call `stop()` when done (a process exit hook kills it too).
 */
export async function startPrometheus(o: StartPrometheusOptions): Promise<Prometheus> {
  const binary = o.binary ?? '/usr/bin/prometheus';
  if (!existsSync(binary)) throw new Error(`prometheus not found at ${binary}: apt-get install prometheus`);
  const port = o.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'testkit-prometheus-'));
  const configPath = join(dir, 'prometheus.yml');
  writeFileSync(configPath, o.config);
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = once(child, 'exit');
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    process.removeListener('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
  };
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  try {
    const deadline = Date.now() + (o.startTimeoutMs ?? 30_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`prometheus exited:\n${output}`);
      const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`prometheus not ready in time:\n${output}`);
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    port,
    configPath,
    async query(expr) {
      const data = await api<{ resultType: string; result: unknown }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      if (data.resultType === 'vector') return data.result as PrometheusSample[];
      if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
      throw new Error(`prometheus: ${expr} returned a ${data.resultType}, not an instant vector`);
    },
    async targets() {
      const data = await api<{
        activeTargets: Array<{ labels: Record<string, string>; health: PrometheusTarget['health']; lastError: string }>;
      }>('/api/v1/targets?state=active');
      return data.activeTargets.map((t) => ({
        job: t.labels.job ?? '',
        instance: t.labels.instance ?? '',
        health: t.health,
        lastError: t.lastError,
      }));
    },
    async rules() {
      const data = await api<{
        groups: Array<{
          name: string;
          rules: Array<{
            name: string;
            type: PrometheusRule['type'];
            health: PrometheusRule['health'];
            lastError?: string;
            state?: string;
          }>;
        }>;
      }>('/api/v1/rules');
      return data.groups.flatMap((g) =>
        g.rules.map((r) => ({
          group: g.name,
          name: r.name,
          type: r.type,
          health: r.health,
          lastError: r.lastError ?? '',
          ...(r.state === undefined ? {} : { state: r.state }),
        })),
      );
    },
    logs: () => output,
    stop,
  };
}
