// `npm run -w @chat/bench artillery:w1|artillery:w2`: the Artillery scenarios end to end against a
// running system (nginx of `npm start` by default): the set-up step (setup.ts: this run's users,
// channels, CSV), then `artillery run w1.yml|w2.yml` once per rate step with `--output`, then a
// summary of the processor's custom metrics per step. Full runs save JSON + Markdown under
// bench/results/ (artillery-w1 / artillery-w2) and keep Artillery's own output files under
// bench/results/raw/ (`artillery report` is deprecated in 2.0.34 and reads nothing); --quick (20 users, seconds) saves nothing
// unless --save. Each step is bounded (phases + sends + drain + a grace) and killed past it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { choiceFlag, flags, intFlag } from '../lib/args.js';
import { commandLine } from '../lib/command.js';
import { RESULTS_DIR, saveResults } from '../lib/results.js';
import { printSystem } from '../lib/system.js';
import { readAggregate, type StepSummary, stepTables, summarizeStep } from './report.js';
import { DEFAULT_HTTP, defaultCsv, type Scenario, setUp } from './setup.js';

const USAGE =
  'npm run -w @chat/bench artillery:w1|artillery:w2 -- [--quick] [--rates R1,R2] [--users N] [--senders S] ' +
  '[--duration-s S] [--ws URL] [--http URL] [--csv PATH] [--save|--no-save]';
const scenario = choiceFlag({ scenario: process.argv[2] }, 'scenario', ['w1', 'w2'] as const, 'w1') as Scenario;
process.argv.splice(2, 1);
const values = flags(
  {
    quick: { type: 'boolean' },
    rates: { type: 'string' },
    users: { type: 'string' },
    senders: { type: 'string' },
    'duration-s': { type: 'string' },
    ws: { type: 'string' },
    http: { type: 'string' },
    csv: { type: 'string' },
    save: { type: 'boolean' },
    'no-save': { type: 'boolean' },
  },
  USAGE,
);
const quick = values.quick === true;
const W1 = scenario === 'w1';
const USERS = intFlag(values, 'users', quick ? 20 : 1000, 2, 20_000);
const SENDERS = W1 ? USERS : Math.min(USERS, intFlag(values, 'senders', quick ? 2 : 10, 1, 20_000));
const DURATION_S = intFlag(values, 'duration-s', quick ? 3 : 60, 1, 3600);
const RATES = String(values.rates ?? (quick ? (W1 ? '20' : '4') : W1 ? '500,1000' : '10,25'))
  .split(',')
  .map(Number);
if (RATES.some((r) => !Number.isInteger(r) || r < 1 || r > 100_000)) {
  console.error(`--rates must be integers in 1..100000 (messages/s), got ${String(values.rates)}\nusage: ${USAGE}`);
  process.exit(2);
}
const WS = String(values.ws ?? 'ws://127.0.0.1:8080/ws');
const HTTP = String(values.http ?? DEFAULT_HTTP);
const CSV = resolve(String(values.csv ?? defaultCsv(scenario)));
const SAVE = values['no-save'] ? false : values.save === true || !quick;
const YML = fileURLToPath(new URL(`./${scenario}.yml`, import.meta.url));
const ARTILLERY = join(dirname(createRequire(import.meta.url).resolve('artillery/package.json')), 'bin/run');
const AMQP = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';

/** Arrivals per second: the largest divisor of the user count up to 50, so that every row connects once. */
function arrivalRate(users: number): number {
  for (let r = Math.min(50, users); r > 1; r--) if (users % r === 0) return r;
  return 1;
}

let child: ChildProcess | undefined;
let interrupted = false;
// Ctrl-C: Artillery stops its virtual users and exits, and no further step starts; nothing else of
// this command holds resources (the system is not ours), so outside a step it just exits.
process.on('SIGINT', () => {
  interrupted = true;
  if (child) child.kill('SIGINT');
  else process.exit(130);
});

/** Runs one `artillery run`; resolves with its exit code and the most files it held open. */
function runArtillery(args: string[], limitMs: number): Promise<{ code: number | string; maxOpenFiles: number }> {
  return new Promise((resolveRun) => {
    const proc = spawn(process.execPath, [ARTILLERY, 'run', ...args], {
      stdio: 'inherit',
      env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true' },
    });
    child = proc;
    let maxOpenFiles = 0;
    const sampler = setInterval(() => {
      try {
        maxOpenFiles = Math.max(maxOpenFiles, readdirSync(`/proc/${proc.pid}/fd`).length);
      } catch {
        // gone, or not Linux
      }
    }, 1000);
    const killer = setTimeout(() => {
      console.error(`artillery still running after ${Math.round(limitMs / 1000)} s: stopping it`);
      proc.kill('SIGKILL');
    }, limitMs);
    proc.on('exit', (code, signal) => {
      clearInterval(sampler);
      clearTimeout(killer);
      child = undefined;
      resolveRun({ code: code ?? String(signal), maxOpenFiles });
    });
  });
}

const startedAt = new Date();
const system = (await printSystem(AMQP)).line;
console.log(
  `Artillery ${scenario.toUpperCase()} against ${WS} (HTTP ${HTTP}): ${USERS} users, ${SENDERS} sender(s), ${RATES.join(', ')} msg/s, ${DURATION_S} s each`,
);
const setup = await setUp({ scenario, http: HTTP, users: USERS, senders: SENDERS, csvPath: CSV });
console.log(
  `set-up: ${setup.users} users, ${setup.channels.length} channel(s), run ${setup.runId}, ${(setup.ms / 1000).toFixed(1)} s → ${CSV}`,
);

const rawDir = join(RESULTS_DIR, 'raw');
mkdirSync(rawDir, { recursive: true });
const steps: StepSummary[] = [];
const outputs: string[] = [];
const perSecond = arrivalRate(USERS);
const rampS = USERS / perSecond;
for (const rate of RATES) {
  if (interrupted) break;
  const thinkMs = Math.max(1, Math.round((SENDERS * 1000) / rate));
  const messages = Math.max(1, Math.round((rate * DURATION_S) / SENDERS));
  const label = `${rate} msg/s`;
  const step = `${scenario}-${setup.runId}-r${rate}`;
  const output = join(rawDir, `artillery-${step}.json`);
  const drainMs = quick ? 2000 : 5000;
  console.log(`\n=== ${label}: ${SENDERS} sender(s), ${messages} messages each, one every ${thinkMs} ms ===`);
  const { code, maxOpenFiles } = await runArtillery(
    [
      '--output',
      output,
      '--target',
      WS,
      '--variables',
      JSON.stringify({ step, rampS, settleMs: 2000, messages, thinkMs, drainMs }),
      '--payload',
      CSV,
      '--overrides',
      JSON.stringify({ config: { phases: [{ name: 'connect', duration: rampS, arrivalRate: perSecond }] } }),
      YML,
    ],
    // Start-up (slow on a loaded machine), arrivals, sends, drain, answers, and a margin.
    180_000 + rampS * 1000 + messages * thinkMs + drainMs + 10_000,
  );
  if (code !== 0) {
    console.error(`artillery exited with ${code}`);
    process.exitCode = 1;
    break;
  }
  outputs.push(output);
  steps.push(
    summarizeStep(readAggregate(output), {
      label,
      rate,
      users: USERS,
      senders: SENDERS,
      recipients: W1 ? 1 : USERS - 1,
      maxOpenFiles,
    }),
  );
}

if (steps.length > 0) {
  const tables = stepTables(steps);
  console.log(`\n${system}`);
  console.log(`\nArtillery ${scenario.toUpperCase()}: latency (processor's custom histograms)\n${tables.latency}`);
  console.log(`\nArtillery ${scenario.toUpperCase()}: messages\n${tables.counts}`);
  console.log(`\nArtillery output: ${outputs.join(', ')}`);
  const notes = [
    W1
      ? `Each of ${USERS} users sends into its DM (pairs); expected = acked × 1.`
      : `${SENDERS} of ${USERS} group members send; expected = acked × ${USERS - 1} (every other member).`,
    'Send → receive is measured by the recipient from the send time in the content (one clock: same machine); ack is message.create → its RESPONSE (after the broker confirmed the durable write).',
    'Artillery runs the virtual users in one process (worker threads); "max open files" is its peak fd count.',
    `Against ${WS} and ${HTTP}: a system started separately (\`npm start\`), whose configuration this run does not know.`,
  ];
  if (SAVE && !interrupted) {
    const saved = saveResults({
      scenario: `artillery-${scenario}`,
      title: `Artillery ${scenario.toUpperCase()}`,
      description: `Artillery's WebSocket engine against nginx of \`npm start\`: ${W1 ? 'W1 direct messages' : 'W2 one group'} with the processor's custom metrics (bench/artillery/).`,
      command: commandLine(),
      system,
      startedAt,
      params: { users: USERS, senders: SENDERS, rates: RATES, durationS: DURATION_S, ws: WS, http: HTTP },
      tables: [
        { heading: 'Latency', markdown: tables.latency },
        { heading: 'Messages', markdown: tables.counts },
      ],
      notes,
      data: { runId: setup.runId, setupMs: setup.ms, steps, artilleryOutputs: outputs },
    });
    console.log(`saved ${saved.json} and ${saved.markdown}`);
  }
}
