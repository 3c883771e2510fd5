// Server-side errors of the MongoDB stand-in, with the numeric codes and code names the real
// server uses, so that the driver raises the same MongoServerError a test would see in production.

import { MingoError } from 'mingo/util';

/** Codes the stand-in answers with; names and numbers are MongoDB's (src/mongo/base/error_codes.yml). */
export const ErrorCode = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  CursorNotFound: 43,
  NamespaceExists: 48,
  CommandNotFound: 59,
  ImmutableField: 66,
  ConflictingUpdateOperators: 40,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  CannotCreateIndex: 67,
  DuplicateKey: 11000,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;

/**
 * A command failed the way the server would fail it. Thrown inside command handlers and turned
 * into `{ ok: 0, errmsg, code, codeName }` (or a `writeErrors` entry) by the caller.
 */
export class CommandError extends Error {
  readonly code: number;
  readonly codeName: ErrorCodeName;
  /** Extra reply fields the server adds for this error, e.g. `keyPattern`/`keyValue` on 11000. */
  readonly details: Record<string, unknown>;

  constructor(codeName: ErrorCodeName, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CommandError';
    this.codeName = codeName;
    this.code = ErrorCode[codeName];
    this.details = details;
  }
}

/**
 * Coerces anything thrown inside a handler to a CommandError. mingo rejects malformed queries,
 * unknown operators and bad expressions with a MingoError: the server calls those BadValue.
 * Anything else is a stand-in bug, reported as InternalError rather than crashing the connection.
 */
export function toCommandError(err: unknown): CommandError {
  if (err instanceof CommandError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof MingoError) return new CommandError('BadValue', message);
  return new CommandError('InternalError', `stand-in internal error: ${message}`);
}
