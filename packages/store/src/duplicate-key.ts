// MongoDB's duplicate-key error (E11000), as the store's conditional upserts and ordinal inserts meet it:
// an upsert whose filter did not match a document that its unique key already holds, or an insert of an
// id or key that is taken.
import { MongoBulkWriteError } from 'mongodb';

export const DUPLICATE_KEY = 11000;

/**
 * True when a write failed only on duplicate keys: a single write's E11000, or a bulk write whose every
 * write error is one (an ordered bulk write stops at its first error, so it has one).
 */
export function onlyDuplicateKeys(err: unknown): boolean {
  if ((err as { code?: number }).code === DUPLICATE_KEY) return true;
  if (!(err instanceof MongoBulkWriteError)) return false;
  const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  return errors.length > 0 && errors.every((e) => e?.code === DUPLICATE_KEY);
}
