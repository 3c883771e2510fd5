// The first thing a service process does: read its configuration, or stop with the reason.

/**
 * Returns `load()`; when it throws one of the `expected` errors (a bad configuration, a missing native
 * module), writes `<service>: <message>` to stderr and exits with code 2. Other errors are rethrown.
 */
export function loadOrExit<T>(
  service: string,
  load: () => T,
  expected: ReadonlyArray<abstract new (...args: never[]) => Error>,
): T {
  try {
    return load();
  } catch (err) {
    if (expected.some((type) => err instanceof type)) {
      process.stderr.write(`${service}: ${(err as Error).message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
