// What the consumers do with an envelope they cannot hand over: count it by reason
// (`<prefix>dropped_total{reason}`) and log it, at warn the first time a reason occurs and at debug
// after that, so a flood of bad envelopes cannot flood the log.
import type { Logger } from '@chat/protocol';
import type { RouterMetrics } from './metrics.js';

/** A JSON text parsed and checked: the value (when it parsed) and why it is not acceptable, if it is not. */
export interface Checked {
  reason: string | undefined;
  value: unknown;
}

/** Parses JSON text and checks the value with `check` (which returns a reason or undefined). */
export function checkedJson(text: string, check: (v: unknown) => string | undefined): Checked {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { reason: 'invalid_json', value: undefined };
  }
  return { reason: check(value), value };
}

export class Drops {
  readonly #metrics: Pick<RouterMetrics, 'dropped'>;
  readonly #logger: Logger;
  readonly #warned = new Set<string>();

  constructor(metrics: Pick<RouterMetrics, 'dropped'>, logger: Logger) {
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** Counts and logs one dropped envelope. */
  drop(reason: string, err?: unknown): void {
    this.#metrics.dropped.inc({ reason });
    const fields = { reason, err: err instanceof Error ? err.message : err };
    if (this.#warned.has(reason)) this.#logger.debug(fields, 'envelope dropped');
    else {
      this.#warned.add(reason);
      this.#logger.warn(fields, 'envelope dropped (further drops for this reason are logged at debug)');
    }
  }

  /** The checked value of a JSON text, or undefined after counting and logging why it was dropped. */
  parse(text: string, check: (v: unknown) => string | undefined): unknown {
    const r = checkedJson(text, check);
    if (r.reason !== undefined) {
      this.drop(r.reason);
      return undefined;
    }
    return r.value;
  }
}
