// `npm run -w @chat/chaos scenario -- <name> [--seed N] [--clients N] [--duration S]`: runs one scenario,
// writes packages/chaos/results/<name>.md (and the recorded run to $TMPDIR/chaos-<name>-<seed>.json, which
// `npm run -w @chat/chaos recheck` checks again), prints it, and exits 1 on any violation (printing the first
// violating message's whole story).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type RecordedRun, writeReport } from './recorded-run.js';
import { runScenario } from './run.js';
import { scenario } from './scenarios.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: 'string', default: '1' },
    clients: { type: 'string', default: '300' },
    duration: { type: 'string' },
  },
});
const name = positionals[0];
if (!name) {
  process.stderr.write('usage: scenario <name> [--seed N] [--clients N] [--duration S]\n');
  process.exit(2);
}
const sc = scenario(name);
const o = {
  seed: Number(values.seed),
  clients: Number(values.clients),
  durationS: Number(values.duration ?? sc.durationS),
};
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
const run = await runScenario(sc, { ...o, log });
const report = writeReport(sc, o, run);
process.stdout.write(report);
const historyPath = join(tmpdir(), `chaos-${sc.name}-${o.seed}.json`);
const recorded: RecordedRun = { scenario: sc.name, options: o, hostile: run.hostile, history: run.history };
writeFileSync(historyPath, JSON.stringify(recorded));
process.stdout.write(`history: ${historyPath}\n`);
process.exit(run.result.ok ? 0 : 1);
