// Errors of @chat/store, each with a stable code; listed in packages/store/README.md ("Errors").

export abstract class StoreError extends Error {
  abstract readonly code: string;
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that can never be stored (bad username, wrong channel kind, …). */
export class ValidationError extends StoreError {
  readonly code = 'STORE_INVALID';
  readonly retryable = false;
}

/** A unique value is taken (username). */
export class ConflictError extends StoreError {
  readonly code = 'STORE_CONFLICT';
  readonly retryable = false;
}

/** The user, channel or message does not exist. */
export class NotFoundError extends StoreError {
  readonly code = 'STORE_NOT_FOUND';
  readonly retryable = false;
}

/** Too many password hashes are running and waiting (sign-up or login flood): retry shortly. */
export class PasswordHasherBusyError extends StoreError {
  readonly code = 'STORE_PASSWORD_BUSY';
  readonly retryable = true;
}

export const ERROR_CLASSES = [ValidationError, ConflictError, NotFoundError, PasswordHasherBusyError] as const;

/**
 * Server error codes that mean "this document will never be accepted": retrying cannot help.
 * BadValue, FailedToParse, TypeMismatch, InvalidLength, DocumentValidationFailure, BSONObjectTooLarge,
 * KeyTooLong, InvalidBSON, DollarPrefixedFieldName-like errors (52), Location codes for oversize.
 */
const PERMANENT_CODES = new Set([2, 9, 14, 16, 52, 121, 10334, 17280, 22, 17419]);

function codesOf(err: unknown): number[] {
  const e = err as { code?: unknown; writeErrors?: unknown; name?: string };
  if (e && Array.isArray(e.writeErrors)) return (e.writeErrors as Array<{ code?: number }>).map((w) => Number(w.code));
  if (e?.writeErrors && typeof e.writeErrors === 'object') return [Number((e.writeErrors as { code?: number }).code)];
  return typeof e?.code === 'number' ? [e.code] : [];
}

/**
 * Whether a MongoDB failure is permanent: the server answered and refused the document for a reason
 * that retrying cannot change. Everything else (network, server selection, failover, timeouts,
 * unknown errors) is worth retrying, so that no write is ever given up on by mistake.
 */
export function isPermanentError(err: unknown): boolean {
  const codes = codesOf(err);
  return codes.length > 0 && codes.every((c) => PERMANENT_CODES.has(c));
}
