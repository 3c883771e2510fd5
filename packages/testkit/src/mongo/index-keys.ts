// Keys of the stand-in's ordered indexes: a document's values for the index fields followed by
// its insertion number, ordered field by field with the server's BSON order (each field in its
// index direction) and then by insertion, so two documents never share a key. Probe keys used to
// seek into an index may hold LOW/HIGH, which sort before/after every value of a field.

import { bsonTypeName, compareValues, type Doc, isDoc } from './bson-values.js';

/** Sorts before every value of a field, in index order (whatever the field's direction). */
export const LOW: unique symbol = Symbol('LOW');
/** Sorts after every value of a field, in index order. */
export const HIGH: unique symbol = Symbol('HIGH');

/** `[v0, …, vn-1, seq]`; a probe may hold LOW/HIGH for values and ±Infinity for seq. */
export type IndexKey = unknown[];

/** One index field: its dotted path and its direction (1 or -1). */
export interface KeyField {
  path: string;
  dir: 1 | -1;
}

/** A field of a document as an index sees it, or MULTIKEY when the path meets an array. */
export const MULTIKEY: unique symbol = Symbol('MULTIKEY');

/** The value at a dotted path (undefined when missing), or MULTIKEY when an array is on the way. */
export function keyValue(doc: Doc, path: string): unknown {
  let cur: unknown = doc;
  for (const seg of path.split('.')) {
    if (Array.isArray(cur)) return MULTIKEY;
    if (!isDoc(cur)) return undefined;
    cur = cur[seg];
  }
  return Array.isArray(cur) ? MULTIKEY : cur;
}

/** Index-order comparison of one field's values (LOW/HIGH included), `dir` applied to real values. */
export function compareField(a: unknown, b: unknown, dir: 1 | -1): number {
  if (a === b) return 0;
  const ta = typeof a;
  // Fast paths for the usual key types, the same order compareValues gives (NaN aside: it falls through).
  if (
    ta === typeof b &&
    (ta === 'string' || ta === 'bigint' || (ta === 'number' && !Number.isNaN(a) && !Number.isNaN(b)))
  ) {
    return (a as string) < (b as string) ? -dir : dir;
  }
  if (a === LOW || b === HIGH) return -1;
  if (a === HIGH || b === LOW) return 1;
  return compareValues(a, b) * dir;
}

/** The comparator of an index with these fields. */
export function keyComparator(fields: readonly KeyField[]): (a: IndexKey, b: IndexKey) => number {
  const n = fields.length;
  const dirs = fields.map((f) => f.dir);
  return (a, b) => {
    for (let i = 0; i < n; i++) {
      const c = compareField(a[i], b[i], dirs[i]!);
      if (c !== 0) return c;
    }
    const sa = a[n] as number;
    const sb = b[n] as number;
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  };
}

/**
 * Values that index bounds may be built from: those whose BSON order and equality the index and
 * the matcher agree on without array or regex semantics. Anything else is left to a scan.
 */
export function isBoundValue(v: unknown): boolean {
  if (v === null) return true;
  switch (typeof v) {
    case 'number':
    case 'bigint':
    case 'string':
    case 'boolean':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (v instanceof Date) return !Number.isNaN(v.getTime());
  const name = bsonTypeName(v);
  return name === 'objectId' || name === 'long' || name === 'int' || name === 'double';
}

/** A value's type as far as projection output goes: missing and null differ, Int32 and Int64 differ. */
export function valueTag(v: unknown): string {
  return v === undefined ? 'missing' : bsonTypeName(v);
}
