// The frame every benchmark scenario runs in: its flags (node:util parseArgs, strict, with defaults,
// bounds, help text and the --quick overrides), --help, the run's time limit, the `Command:` line, and
// saving the result under bench/results/ (<name>.md + <name>-<time>.json). A scenario states its flags
// once and writes only what it measures.
//
//   const scenario = defineScenario({ name: 'w2', limitMinutes: 30, flags: {…}, quick: {…} });
//   const { rates } = scenario.flags;           // parsed, bounded, quick-adjusted
//   scenario.run(async (ctx) => ({ code: 0, results: {…} }));
//
// Flags are parsed when the scenario is defined (module load), so the rest of the file may read them as
// constants; `run` owns the process from then on: it exits with the run's code (1 on a throw, 3 when the
// time limit is hit).
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { commandLine } from './command.js';
import { type ScenarioResult, saveResults } from './results.js';

/** A run that did not work (a probe never arrived, a step timed out): printed as `FAILED: …`, exit 1. */
export class BenchFailure extends Error {}

/** The promise, or a BenchFailure `<what> did not finish within <ms> ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new BenchFailure(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function fmtMinutes(m: number): string {
  return Number.isInteger(m) ? String(m) : m.toFixed(2);
}

interface FlagBase {
  /** One line for --help. */
  help: string;
}
/** An integer within [min, max]; without a default the flag is `undefined` when not given. */
export interface IntFlag extends FlagBase {
  type: 'int';
  default?: number;
  min?: number;
  max?: number;
}
/** Comma-separated integers, each within [min, max]. */
export interface IntListFlag extends FlagBase {
  type: 'ints';
  default: readonly number[];
  min?: number;
  max?: number;
}
export interface ChoiceFlag<C extends string = string> extends FlagBase {
  type: 'choice';
  choices: readonly C[];
  default: C;
}
export interface BooleanFlag extends FlagBase {
  type: 'boolean';
}
/** Free text; `multiple` collects every occurrence (`--gateway-env A=1 --gateway-env B=2`). */
export interface StringFlag extends FlagBase {
  type: 'string';
  default?: string;
  multiple?: boolean;
}
export type FlagDef = IntFlag | IntListFlag | ChoiceFlag | BooleanFlag | StringFlag;
export type FlagDefs = Record<string, FlagDef>;

/** The parsed value of one flag definition. */
export type FlagValue<D> = D extends { type: 'int'; default: number }
  ? number
  : D extends { type: 'int' }
    ? number | undefined
    : D extends { type: 'ints' }
      ? number[]
      : D extends ChoiceFlag<infer C>
        ? C
        : D extends { type: 'boolean' }
          ? boolean
          : D extends { type: 'string'; multiple: true }
            ? string[]
            : D extends { type: 'string'; default: string }
              ? string
              : string | undefined;
export type FlagValues<F extends FlagDefs> = { -readonly [K in keyof F]: FlagValue<F[K]> };

export interface ScenarioSpec<F extends FlagDefs> {
  /** The npm script (`npm run -w @chat/bench <name>`) and the stem of the saved results. */
  name: string;
  /** What the scenario measures: the first line of --help. */
  summary: string;
  flags: F;
  /** Values a --quick run uses for the flags not given on its command line; no `quick` = no --quick flag. */
  quick?: Partial<FlagValues<F>>;
  /** Whether the scenario saves results (adds --save/--no-save); default true. */
  saves?: boolean;
  /** The whole run is stopped (exit 3) after this long (a function: computed from the parsed flags). */
  limitMinutes: number | ((options: ScenarioOptions<F>) => number);
  /** Where results go (tests); default bench/results/. */
  resultsDir?: string;
  /** Extra lines printed after the flags by --help. */
  notes?: readonly string[];
}

export interface ScenarioOptions<F extends FlagDefs> {
  flags: FlagValues<F>;
  quick: boolean;
  /** Full runs save unless --no-save; --quick runs only with --save. */
  save: boolean;
}

export type ParseOutcome<F extends FlagDefs> =
  | { kind: 'help'; text: string }
  | { kind: 'error'; message: string }
  | ({ kind: 'ok' } & ScenarioOptions<F>);

/** The result a run hands back: its exit code and, to be saved, what it measured. */
export interface ScenarioOutcome {
  code: number;
  results?: Omit<ScenarioResult, 'scenario' | 'command' | 'startedAt'> & { scenario?: string };
}

export interface ScenarioContext<F extends FlagDefs> extends ScenarioOptions<F> {
  name: string;
  /** The exact command, as the reader would type it (printed as `Command:` before the run). */
  command: string;
  startedAt: Date;
}

export interface Scenario<F extends FlagDefs> extends ScenarioOptions<F> {
  spec: ScenarioSpec<F>;
  /** Prints the usage and exits with 2: for checks that span flags. */
  usageError(message: string): never;
  /** Runs the scenario under its time limit, saves its results when asked, and exits with its code. */
  run(body: (ctx: ScenarioContext<F>) => Promise<ScenarioOutcome>): void;
}

const BUILT_IN = {
  help: { type: 'boolean', help: 'print this help and exit' },
  quick: { type: 'boolean', help: 'smoke run: small sizes (below), not saved unless --save' },
  save: { type: 'boolean', help: 'save the results under bench/results/ (default for full runs)' },
  'no-save': { type: 'boolean', help: 'do not save the results' },
} as const satisfies FlagDefs;

function builtIns(spec: { quick?: object; saves?: boolean }): FlagDefs {
  const out: FlagDefs = { help: BUILT_IN.help };
  if (spec.quick) out.quick = BUILT_IN.quick;
  if (spec.saves !== false) Object.assign(out, { save: BUILT_IN.save, 'no-save': BUILT_IN['no-save'] });
  return out;
}

function shown(v: unknown): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

function placeholder(def: FlagDef): string {
  if (def.type === 'boolean') return '';
  if (def.type === 'choice') return ` ${def.choices.join('|')}`;
  if (def.type === 'ints') return ' N,N…';
  return def.type === 'int' ? ' N' : ' TEXT';
}

/** The one-line usage and the flag table of --help. */
export function helpText<F extends FlagDefs>(spec: ScenarioSpec<F>): string {
  const all: FlagDefs = { ...spec.flags, ...builtIns(spec) };
  const quick = (spec.quick ?? {}) as Record<string, unknown>;
  const usage = `usage: npm run -w @chat/bench ${spec.name} -- ${Object.entries(all)
    .filter(([name]) => name !== 'help')
    .map(([name, def]) => `[--${name}${placeholder(def)}]`)
    .join(' ')}`;
  const rows = Object.entries(all).map(([name, def]) => {
    const facts: string[] = [];
    if ('default' in def && def.default !== undefined) facts.push(`default ${shown(def.default)}`);
    if (name in quick) facts.push(`--quick ${shown(quick[name])}`);
    if ((def.type === 'int' || def.type === 'ints') && (def.min !== undefined || def.max !== undefined)) {
      facts.push(`${def.min ?? '…'}..${def.max ?? '…'}`);
    }
    return `  --${`${name}${placeholder(def)}`.padEnd(28)} ${def.help}${facts.length > 0 ? ` (${facts.join('; ')})` : ''}`;
  });
  return [spec.summary, usage, '', ...rows, ...(spec.notes ?? [])].join('\n');
}

function intIn(name: string, raw: string, def: IntFlag | IntListFlag): number {
  const n = Number(raw.trim());
  const min = def.min ?? Number.MIN_SAFE_INTEGER;
  const max = def.max ?? Number.MAX_SAFE_INTEGER;
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(
      `--${name} must be ${def.type === 'ints' ? 'integers' : 'an integer'} in ${min}..${max}, got '${raw}'`,
    );
  }
  return n;
}

function parseValue(name: string, def: FlagDef, raw: string | boolean | string[]): unknown {
  switch (def.type) {
    case 'boolean':
      return raw === true;
    case 'string':
      return raw;
    case 'int':
      return intIn(name, String(raw), def);
    case 'ints':
      return String(raw)
        .split(',')
        .map((s) => intIn(name, s, def));
    case 'choice':
      if (!def.choices.includes(String(raw))) {
        throw new Error(`--${name} must be one of ${def.choices.join(', ')}, got '${String(raw)}'`);
      }
      return raw;
  }
}

function defaultOf(def: FlagDef): unknown {
  if (def.type === 'boolean') return false;
  if (def.type === 'string' && def.multiple) return [];
  return 'default' in def ? def.default : undefined;
}

/** Parses argv against the scenario's flags: help, an error (unknown flag, bad value), or the options. */
export function parseScenario<F extends FlagDefs>(spec: ScenarioSpec<F>, argv: readonly string[]): ParseOutcome<F> {
  const all: FlagDefs = { ...spec.flags, ...builtIns(spec) };
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, def] of Object.entries(all)) {
    options[name] =
      def.type === 'boolean'
        ? { type: 'boolean' }
        : { type: 'string', multiple: def.type === 'string' && def.multiple === true };
  }
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    if (values.help === true) return { kind: 'help', text: helpText(spec) };
    const quick = values.quick === true;
    const overrides = (quick ? (spec.quick ?? {}) : {}) as Record<string, unknown>;
    const flags: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(spec.flags)) {
      const raw = values[name];
      flags[name] =
        raw !== undefined
          ? parseValue(name, def, raw as string | boolean | string[])
          : name in overrides
            ? overrides[name]
            : defaultOf(def);
    }
    const save = spec.saves !== false && values['no-save'] !== true && (values.save === true || !quick);
    return { kind: 'ok', flags: flags as FlagValues<F>, quick, save };
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
}

function usageLine<F extends FlagDefs>(spec: ScenarioSpec<F>): string {
  return helpText(spec).split('\n')[1] ?? '';
}

/** Where a run writes its lines: the console for real runs, a recorder in tests. */
export interface ScenarioOutput {
  log(line: string): void;
  error(line: unknown): void;
}

/**
 * Runs `body` as the scenario: prints the `Command:` line, stops waiting after the time limit
 * (resolves 3, printing why), saves the outcome's results when `options.save`, and resolves with the
 * exit code (1 when the body throws: `FAILED: …` for a BenchFailure).
 */
export async function runScenario<F extends FlagDefs>(
  spec: ScenarioSpec<F>,
  options: ScenarioOptions<F>,
  body: (ctx: ScenarioContext<F>) => Promise<ScenarioOutcome>,
  out: ScenarioOutput = console,
  command = commandLine(),
): Promise<number> {
  const minutes = typeof spec.limitMinutes === 'function' ? spec.limitMinutes(options) : spec.limitMinutes;
  const ctx: ScenarioContext<F> = { ...options, name: spec.name, command, startedAt: new Date() };
  out.log(`Command: ${command}`);
  let limit: NodeJS.Timeout | undefined;
  const overtime = new Promise<'limit'>((resolve) => {
    limit = setTimeout(() => resolve('limit'), minutes * 60_000);
  });
  try {
    const outcome = await Promise.race([body(ctx), overtime]);
    if (outcome === 'limit') {
      out.error(`${spec.name}: the run exceeded its time limit of ${fmtMinutes(minutes)} min; giving up`);
      return 3;
    }
    if (outcome.results && options.save) {
      const { scenario = spec.name, ...rest } = outcome.results;
      const paths = saveResults({ ...rest, scenario, command, startedAt: ctx.startedAt }, spec.resultsDir);
      out.log(`saved ${paths.json}\n      ${paths.markdown}`);
    }
    return outcome.code;
  } catch (err) {
    out.error(err instanceof BenchFailure ? `FAILED: ${err.message}` : err);
    return 1;
  } finally {
    clearTimeout(limit);
  }
}

/**
 * Defines a scenario: parses the command line now (--help prints and exits 0; an unknown flag or a
 * value out of bounds prints the reason and the usage and exits 2) and hands back the options and
 * `run`, which runs the body (runScenario) and exits the process with its code.
 */
export function defineScenario<const F extends FlagDefs>(
  spec: ScenarioSpec<F>,
  argv: readonly string[] = process.argv.slice(2),
): Scenario<F> {
  const parsed = parseScenario(spec, argv);
  const usageError = (message: string): never => {
    console.error(`${message}\n${usageLine(spec)}`);
    process.exit(2);
  };
  if (parsed.kind === 'help') {
    console.log(parsed.text);
    process.exit(0);
  }
  if (parsed.kind === 'error') return usageError(parsed.message);
  const { flags, quick, save } = parsed;
  return {
    spec,
    flags,
    quick,
    save,
    usageError,
    run(body) {
      void runScenario(spec, { flags, quick, save }, body).then((code) => process.exit(code));
    },
  };
}
