// The logger testkit writes progress to: pino-compatible (object first, message second), the same
// shape @chat/router accepts, so one injected logger serves both.
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

const noop = () => {};
/** Discards everything: the default when the caller injects no logger. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
