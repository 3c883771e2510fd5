// `npm run -w @chat/chaos recheck -- <file.json> [--clients N --duration S --seed N]`: checks a recorded run
// again (main.ts writes one per scenario run) and rewrites packages/chaos/results/<name>.md from it; exits
// 1 on any violation. The flags give the run's parameters for recordings made before they were saved
// with the history (a bare history file); otherwise they are read from the file.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { check } from './checker.js';
import type { History } from './history.js';
import { type RecordedRun, writeReport } from './recorded-run.js';
import { scenario } from './scenarios.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    scenario: { type: 'string' },
    seed: { type: 'string' },
    clients: { type: 'string' },
    duration: { type: 'string' },
  },
});
const file = positionals[0];
if (!file) {
  process.stderr.write(
    'usage: recheck <chaos-<name>-<seed>.json> [--scenario NAME --seed N --clients N --duration S]\n',
  );
  process.exit(2);
}
const raw = JSON.parse(readFileSync(file, 'utf8')) as RecordedRun | History;
const recorded: RecordedRun =
  'history' in raw
    ? raw
    : {
        scenario: values.scenario ?? /chaos-(.+)-\d+\.json$/.exec(file)?.[1] ?? '',
        options: { seed: Number(values.seed ?? 1), clients: Number(values.clients ?? 300), durationS: 0 },
        hostile: null,
        history: raw,
      };
const sc = scenario(recorded.scenario);
const o = { ...recorded.options, durationS: Number(values.duration ?? (recorded.options.durationS || sc.durationS)) };
const result = check(recorded.history);
process.stdout.write(writeReport(sc, o, { history: recorded.history, result, hostile: recorded.hostile }));
process.exit(result.ok ? 0 : 1);
