// What every command handler receives, and the argument readers they share. Arguments arrive
// decoded with `useBigInt64`, so integers may be `number` or `bigint` depending on the client.

import type { Doc } from './bson-values.js';
import { isDoc } from './bson-values.js';
import type { Cursors } from './cursor.js';
import { CommandError } from './errors.js';
import type { Store } from './store.js';

export interface CommandContext {
  store: Store;
  cursors: Cursors;
  /** The `$db` of the command. */
  db: string;
  /** Per-connection number, reported by `hello` as `connectionId`. */
  connectionId: number;
}

/** A command handler: returns the reply without `ok` (added by the dispatcher) or throws a CommandError. */
export type CommandHandler = (cmd: Doc, ctx: CommandContext) => Doc;

/** The collection a command names in its first field (`{find: 'messages', ...}`). */
export function collectionArg(cmd: Doc, command: string): string {
  const name = cmd[command];
  if (typeof name !== 'string' || name.length === 0) {
    throw new CommandError('InvalidNamespace', `collection name has invalid type ${typeof name}`);
  }
  return name;
}

/** An optional integer argument as a JS number (clients send Int32, Int64 or Double). */
export function intArg(cmd: Doc, field: string): number | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  throw new CommandError('TypeMismatch', `BSON field '${field}' is the wrong type '${typeof v}', expected a number`);
}

export function boolArg(cmd: Doc, field: string): boolean {
  const v = cmd[field];
  return v === true || v === 1 || v === 1n;
}

export function docArg(cmd: Doc, field: string): Doc | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  if (!isDoc(v)) throw new CommandError('TypeMismatch', `BSON field '${field}' is the wrong type, expected object`);
  return v;
}

export function docsArg(cmd: Doc, field: string): Doc[] {
  const v = cmd[field];
  if (!Array.isArray(v) || !v.every(isDoc)) {
    throw new CommandError('TypeMismatch', `BSON field '${field}' is missing or not an array of objects`);
  }
  return v as Doc[];
}

/**
 * Refuses a non-simple collation: the stand-in compares strings by code unit only, and silently
 * ignoring a collation would give results no real server gives.
 */
export function rejectCollation(doc: Doc): void {
  const collation = doc.collation;
  if (collation === undefined || collation === null) return;
  if (isDoc(collation) && collation.locale === 'simple') return;
  throw new CommandError('IllegalOperation', 'stand-in does not implement collation (only {locale: "simple"})');
}
