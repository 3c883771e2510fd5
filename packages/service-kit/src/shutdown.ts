// Graceful shutdown of a service process: on the first signal, stop in order, then exit; exit anyway
// (code 1) when stopping takes longer than its bound.
import type { Logger } from '@chat/protocol';

export interface ShutdownOptions {
  logger: Pick<Logger, 'warn' | 'error'>;
  /** Runs once, on the first signal; resolves to the exit code. */
  stop(signal: NodeJS.Signals): Promise<number>;
  /** Exit with code 1 (logging `timeoutMessage`) when `stop` has not finished this long after the signal. */
  timeoutMs: number;
  timeoutMessage: string;
  /** Default SIGTERM and SIGINT. */
  signals?: readonly NodeJS.Signals[];
  /** Where signals are heard and how the process exits; default the process itself. */
  process?: Pick<NodeJS.EventEmitter, 'on'> & { exit(code: number): void };
}

/**
 * Installs the signal handlers. A second signal while stopping is ignored; a `stop` that throws is
 * logged and exits with code 1. Returns the handler, for a caller that decides to stop on its own.
 */
export function exitOnSignals(options: ShutdownOptions): (signal: NodeJS.Signals) => Promise<void> {
  const proc = options.process ?? process;
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const hardStop = setTimeout(() => {
      options.logger.error(options.timeoutMessage);
      proc.exit(1);
    }, options.timeoutMs);
    hardStop.unref();
    let code: number;
    try {
      code = await options.stop(signal);
    } catch (err) {
      options.logger.error({ err: (err as Error).message }, 'shutdown failed');
      code = 1;
    }
    clearTimeout(hardStop);
    proc.exit(code);
  };
  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) proc.on(signal, () => void shutdown(signal));
  return shutdown;
}

/**
 * Closes resources one after the other, in the order given (what depends on another first); a step
 * that fails is logged and the next one still runs.
 */
export async function closeInOrder(
  steps: ReadonlyArray<readonly [name: string, close: () => unknown]>,
  logger: Pick<Logger, 'warn'>,
): Promise<void> {
  for (const [name, close] of steps) {
    try {
      await close();
    } catch (err) {
      logger.warn({ err: (err as Error).message, resource: name }, 'close failed during shutdown');
    }
  }
}
