// Command-line flags shared by the scenarios (node:util parseArgs with bounds checks).
import { type ParseArgsConfig, parseArgs } from 'node:util';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/** Parses flags strictly (an unknown flag is an error, printed with the usage line). */
export function flags<T extends FlagSpec>(spec: T, usage: string) {
  try {
    return parseArgs({ options: { ...spec, help: { type: 'boolean' } }, strict: true, allowPositionals: false })
      .values as Record<string, string | boolean | undefined>;
  } catch (err) {
    console.error(`${(err as Error).message}\nusage: ${usage}`);
    process.exit(2);
  }
}

/** An integer flag within [min, max], or the default. Exits with the usage on a bad value. */
export function intFlag(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer in ${min}..${max}, got '${raw}'`);
    process.exit(2);
  }
  return n;
}

/** A flag restricted to some words, or the default. */
export function choiceFlag<T extends string>(
  values: Record<string, string | boolean | undefined>,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) {
    console.error(`--${name} must be one of ${choices.join(', ')}, got '${String(raw)}'`);
    process.exit(2);
  }
  return raw as T;
}
