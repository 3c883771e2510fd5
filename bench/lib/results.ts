// Saves a scenario's result as data (bench/results/<scenario>-<timestamp>.json) and adds the run
// to the scenario's Markdown summary (bench/results/<scenario>.md), newest run first.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
const RUNS_MARKER = '<!-- runs: newest first; each added by the scenario itself -->';

export interface ScenarioResult {
  /** File stem: `attach`, `durable`, `dispatch`. */
  scenario: string;
  /** Heading and one paragraph for a new summary file. */
  title: string;
  description: string;
  command: string;
  system: string;
  startedAt: Date;
  /** Parameters of the run (users, counts, rounds, …). */
  params: Record<string, unknown>;
  /** Markdown tables, in order, each with an optional heading. */
  tables: Array<{ heading?: string; markdown: string }>;
  /** Lines shown under the tables (verdicts, caveats). */
  notes: string[];
  /** Everything measured, for the JSON file. */
  data: unknown;
}

export interface SavedPaths {
  json: string;
  markdown: string;
}

function stamp(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

/** The commit measured, with `+changes` when the router's working tree differs from it. */
function revision(dir: string): string {
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir.replace(/results\/?$/, ''),
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const head = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', '../packages/router/src').length > 0;
    return dirty ? `${head}+changes in packages/router/src` : head;
  } catch {
    return 'unknown';
  }
}

/** Writes the JSON file and prepends the run to the Markdown summary (in `dir`, default bench/results/). Returns both paths. */
export function saveResults(result: ScenarioResult, dir = RESULTS_DIR): SavedPaths {
  mkdirSync(dir, { recursive: true });
  const finishedAt = new Date();
  const rev = revision(dir);
  const json = join(dir, `${result.scenario}-${stamp(result.startedAt)}.json`);
  writeFileSync(
    json,
    `${JSON.stringify(
      {
        scenario: result.scenario,
        command: result.command,
        system: result.system,
        revision: rev,
        startedAt: result.startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        params: result.params,
        notes: result.notes,
        data: result.data,
      },
      null,
      2,
    )}\n`,
  );

  const section = [
    `## ${result.startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    '```sh',
    result.command,
    '```',
    '',
    result.system,
    '',
    `Revision: ${rev} · data: [${basename(json)}](${basename(json)}) · parameters: \`${JSON.stringify(result.params)}\``,
    '',
    ...result.tables.flatMap((t) => [...(t.heading ? [`**${t.heading}**`, ''] : []), t.markdown, '']),
    ...result.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');

  const markdown = join(dir, `${result.scenario}.md`);
  let text = existsSync(markdown) ? readFileSync(markdown, 'utf8') : '';
  if (!text.includes(RUNS_MARKER)) {
    text = `# ${result.title}\n\n${result.description}\n\n${RUNS_MARKER}\n`;
  }
  const at = text.indexOf(RUNS_MARKER) + RUNS_MARKER.length;
  text = `${text.slice(0, at)}\n\n${section}${text.slice(at).replace(/^\n+/, '\n')}`;
  writeFileSync(markdown, `${text.trimEnd()}\n`);
  return { json, markdown };
}
