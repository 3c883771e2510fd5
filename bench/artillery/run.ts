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
import { RESULTS_DIR } from '../lib/results.js';
import { defineScenario, type ScenarioOutcome } from '../lib/scenario.js';
import { printSystem } from '../lib/system.js';
import { readAggregate, type StepSummary, stepTables, summarizeStep } from './report.js';
import { DEFAULT_HTTP, defaultCsv, setUp, takeScenarioArgument } from './setup.js';

const scenario = takeScenarioArgument('npm run -w @chat/bench artillery:w1|artillery:w2 -- [flags]');
const W1 = scenario === 'w1';
const bench = defineScenario({
  name: `artillery:${scenario}`,
  summary: `Artillery ${scenario.toUpperCase()} on its WebSocket engine against nginx of a running \`npm start\``,
  flags: {
    rates: {
      type: 'ints',
      default: W1 ? [500, 1000] : [10, 25],
      min: 1,
      max: 100_000,
      help: 'messages/s over all senders, one step each',
    },
    users: { type: 'int', default: 1000, min: 2, max: 20_000, help: 'users registered (one virtual user each)' },
    senders: { type: 'int', default: 10, min: 1, max: 20_000, help: 'W2: members that send (W1: every user)' },
    'duration-s': { type: 'int', default: 60, min: 1, max: 3600, help: 'seconds per step' },
    ws: { type: 'string', default: 'ws://127.0.0.1:8080/ws', help: 'WebSocket URL' },
    http: { type: 'string', default: DEFAULT_HTTP, help: 'HTTP URL (set-up)' },
    csv: { type: 'string', default: defaultCsv(scenario), help: 'users CSV written by the set-up' },
  },
  quick: { rates: W1 ? [20] : [4], users: 20, senders: 2, 'duration-s': 3 },
  limitMinutes: 120,
});
const quick = bench.quick;
const { users: USERS, 'duration-s': DURATION_S, rates: RATES, ws: WS, http: HTTP } = bench.flags;
const SENDERS = W1 ? USERS : Math.min(USERS, bench.flags.senders);
const CSV = resolve(bench.flags.csv);
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

bench.run(async (): Promise<ScenarioOutcome> => {
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
  let exitCode = 0;
  let results: ScenarioOutcome['results'];
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
      exitCode = 1;
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
    if (!interrupted) {
      results = {
        scenario: `artillery-${scenario}`,
        title: `Artillery ${scenario.toUpperCase()}`,
        description: `Artillery's WebSocket engine against nginx of \`npm start\`: ${W1 ? 'W1 direct messages' : 'W2 one group'} with the processor's custom metrics (bench/artillery/).`,
        system,
        params: { users: USERS, senders: SENDERS, rates: RATES, durationS: DURATION_S, ws: WS, http: HTTP },
        tables: [
          { heading: 'Latency', markdown: tables.latency },
          { heading: 'Messages', markdown: tables.counts },
        ],
        notes,
        data: { runId: setup.runId, setupMs: setup.ms, steps, artilleryOutputs: outputs },
      };
    }
  }
  return { code: exitCode, results };
});
