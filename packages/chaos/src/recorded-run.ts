// A scenario's run as recorded on disk ($TMPDIR/chaos-<name>-<seed>.json), and the results file written
// from it: packages/chaos/results/<name>.md. The checker is a pure function of the history, so a recorded
// run can be checked again (recheck.ts) after the checker or the report changed, without re-running it.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { History } from './history.js';
import type { Hostiles } from './hostile.js';
import { renderReport } from './report.js';
import type { RunOutcome } from './run.js';
import type { Scenario } from './scenarios.js';

export interface RunParameters {
  seed: number;
  clients: number;
  durationS: number;
}

export interface RecordedRun {
  scenario: string;
  options: RunParameters;
  /** What the hostile clients did (null: none ran, or a recording older than this field). */
  hostile: Hostiles['counts'] | null;
  history: History;
}

/** Writes results/<name>.md for this run and returns its text. */
export function writeReport(sc: Scenario, o: RunParameters, run: RunOutcome): string {
  const report = renderReport(sc, o, run);
  const dir = new URL('../results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`${sc.name}.md`, dir), report);
  return report;
}
