// Draws the figures of bench/RESULTS.md from committed results (JSON under bench/results/), as SVG
// files in bench/results/plots/, with Vega-Lite compiled to Vega and rendered headless (no browser,
// no canvas). Re-run it after committing new results:
//
//   npm run -w @chat/bench plots [-- --peers results/peers-….json --w1 results/w1-….json --w3 results/w3-….json]
//
// Without flags it takes the newest file of each scenario. Figures:
//   latency-vs-rate.svg     p99 send → receive against offered DM rate, one line per system (peers)
//   cpu-per-message.svg     µs of CPU per delivered DM, per process, at each rate of this system (w1)
//   memory-per-socket.svg   KiB of RSS per idle connection, per system (peers) and per w3 shape
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(BENCH, 'results');
const OUT = join(RESULTS, 'plots');

const { values } = parseArgs({
  options: { peers: { type: 'string' }, w1: { type: 'string' }, w3: { type: 'string' } },
});

/** The newest saved result of a scenario (file names carry the start time, so they sort). */
function newest(scenario: string): string | undefined {
  const files = readdirSync(RESULTS)
    .filter((f) => f.startsWith(`${scenario}-`) && f.endsWith('.json'))
    .sort();
  return files.length > 0 ? join(RESULTS, files.at(-1)!) : undefined;
}

/** The parts of the saved results the figures read (see peers.ts, w1.ts, w3.ts for the whole). */
interface PeersData {
  results: Array<{
    name: string;
    sweep?: Array<{ rate: number; latency?: { count: number; p99Ms: number } }>;
    idle?: { kibPerSocket: number };
  }>;
}
interface W1Data {
  steps?: Array<{ mode: string; rate: number; deliveredPerSec: number; cpu?: { percent: Record<string, number> } }>;
}
type W3Data = Array<{ label: string; kibPerConnection?: number }>;
interface Loaded<T> {
  file: string;
  json: { data: T };
}

function load<T>(flag: string | undefined, scenario: string): Loaded<T> | undefined {
  const file = flag ? resolve(BENCH, flag) : newest(scenario);
  return file ? { file, json: JSON.parse(readFileSync(file, 'utf8')) } : undefined;
}

async function svg(name: string, spec: vegaLite.TopLevelSpec): Promise<void> {
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  writeFileSync(join(OUT, name), await view.toSVG());
  view.finalize();
  console.log(`wrote results/plots/${name}`);
}

const source = (file: string) => `source: ${file.slice(BENCH.length + 1)}`;

async function latencyVsRate(peers: Loaded<PeersData>): Promise<void> {
  const rows = [];
  for (const sys of peers.json.data.results) {
    for (const step of sys.sweep ?? []) {
      if (step.latency && step.latency.count > 0)
        rows.push({ system: sys.name, rate: step.rate, p99: step.latency.p99Ms });
    }
  }
  await svg('latency-vs-rate.svg', {
    title: { text: 'W1: p99 send → receive vs offered DM rate', subtitle: source(peers.file) },
    width: 560,
    height: 320,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'rate', type: 'quantitative', scale: { type: 'log' }, title: 'offered DM/s (log)' },
      y: { field: 'p99', type: 'quantitative', scale: { type: 'log' }, title: 'p99 ms (log)' },
      color: { field: 'system', type: 'nominal' },
    },
  });
}

async function cpuPerMessage(w1: Loaded<W1Data>): Promise<void> {
  const rows = [];
  // Open-loop steps only (the closed loop has no offered rate); the load generators are included.
  for (const step of (w1.json.data.steps ?? []).filter((s) => s.mode === 'open')) {
    const percent = step.cpu?.percent ?? {};
    if (!step.deliveredPerSec) continue;
    for (const [process, pct] of Object.entries(percent)) {
      if (typeof pct !== 'number' || process === 'bench') continue;
      rows.push({ rate: String(step.rate), process, us: ((pct / 100) * 1e6) / step.deliveredPerSec });
    }
  }
  await svg('cpu-per-message.svg', {
    title: { text: 'W1: µs of CPU per delivered durable DM, per process', subtitle: source(w1.file) },
    width: 420,
    height: 320,
    data: { values: rows },
    mark: 'bar',
    encoding: {
      x: { field: 'rate', type: 'ordinal', title: 'offered DM/s', sort: null },
      y: { field: 'us', type: 'quantitative', aggregate: 'sum', title: 'µs per delivered DM' },
      color: { field: 'process', type: 'nominal' },
    },
  });
}

async function memoryPerSocket(peers: Loaded<PeersData> | undefined, w3: Loaded<W3Data> | undefined): Promise<void> {
  const rows = [];
  for (const sys of peers?.json.data.results ?? []) {
    if (typeof sys.idle?.kibPerSocket === 'number')
      rows.push({ what: `${sys.name} (peers, all processes)`, kib: sys.idle.kibPerSocket });
  }
  for (const phase of Array.isArray(w3?.json.data) ? w3!.json.data : []) {
    if (typeof phase.kibPerConnection === 'number')
      rows.push({ what: `gateway: ${phase.label} (w3)`, kib: phase.kibPerConnection });
  }
  await svg('memory-per-socket.svg', {
    title: {
      text: 'KiB of RSS per idle connection',
      subtitle: [peers, w3].filter(Boolean).map((r) => source(r!.file)),
    },
    width: 420,
    height: { step: 22 },
    data: { values: rows },
    mark: 'bar',
    encoding: {
      y: { field: 'what', type: 'nominal', title: null, sort: '-x' },
      x: { field: 'kib', type: 'quantitative', title: 'KiB per connection' },
    },
  });
}

const peers = load<PeersData>(values.peers, 'peers');
const w1 = load<W1Data>(values.w1, 'w1');
const w3 = load<W3Data>(values.w3, 'w3');
if (peers) await latencyVsRate(peers);
if (w1) await cpuPerMessage(w1);
if (peers || w3) await memoryPerSocket(peers, w3);
if (!peers && !w1 && !w3) {
  console.error('no results to plot under bench/results/');
  process.exit(1);
}
