// Readers of environment variables for a service's config.ts. Each takes the environment and the
// variable's name (`env, 'NAME'`: the compose test finds every variable a service reads by that
// pattern), treats an empty value as unset, and throws a ConfigError that names the variable.

export type Env = Record<string, string | undefined>;

/** A bad configuration value; the process stops at start with its message (exit code 2). */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

/** The value, or `fallback` when unset or empty. */
export function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

/** An integer in `min..max`, or `fallback` when unset or empty. */
export function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  }
  return n;
}

/** A duration in whole milliseconds, `minMs..maxMs` (variables named `*_MS`). */
export function duration(env: Env, name: string, fallbackMs: number, minMs: number, maxMs: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallbackMs;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < minMs || n > maxMs) {
    throw new ConfigError(`${name} must be a number of milliseconds, an integer in ${minMs}..${maxMs}, got "${raw}"`);
  }
  return n;
}

/** true for 1/true/yes, false for 0/false/no (any case), `fallback` when unset or empty. */
export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/**
 * A comma-separated list, items trimmed, empty items dropped, frozen; `fallback` when unset or empty.
 * `check` returns why an item is refused (the error names the variable and the item), or undefined.
 */
export function list(
  env: Env,
  name: string,
  fallback: readonly string[] = [],
  check: (item: string) => string | undefined = () => undefined,
): readonly string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return Object.freeze([...fallback]);
  const items = raw
    .split(',')
    .map((i) => i.trim())
    .filter((i) => i.length > 0);
  for (const item of items) {
    const problem = check(item);
    if (problem !== undefined) throw new ConfigError(`${name}: "${item}" ${problem}`);
  }
  return Object.freeze(items);
}

/** `value` when it parses as a URL of one of `schemes` (`'amqp:'`, …); `name` is the variable it came from. */
export function url(name: string, value: string, schemes: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a URL: "${value}"`);
  }
  if (!schemes.includes(parsed.protocol)) throw new ConfigError(`${name} must use ${schemes.join(' or ')}`);
  return value;
}

/** Secrets copied from an example (`.env.example` marks every one `change-me…`) are public: refused. */
export function refusePlaceholders(env: Env, names: readonly string[]): void {
  for (const name of names) {
    if (/change[-_]?me/i.test(env[name] ?? '')) {
      throw new ConfigError(`${name} still holds an example value (contains "change-me"): set a secret of your own`);
    }
  }
}
