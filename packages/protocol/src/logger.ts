// The one logger shape of the repository: pino-compatible (object first, message second); `console` fits
// too. Every package accepts this type, so one injected logger serves them all.

export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

const noop = () => {};
/** Discards everything: the default when the caller injects no logger. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
