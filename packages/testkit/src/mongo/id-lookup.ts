// The stand-in's cheapest query: a filter on `_id` alone by equality or `$in` (`{_id: x}`,
// `{_id: {$eq: x}}`, `{_id: {$in: [x, y]}}`), answered straight from the collection's `_id` map
// without compiling a matcher or planning (the store's per-channel upserts and its cached-counts
// reads: bench/results/standin-writes.md). Only values whose canonical key is equal exactly when
// the server's comparison calls them equal take this path (strings, integers and finite doubles of
// any numeric type, booleans, ObjectIds, valid dates); anything else — null (which also matches a
// missing field), regexes, arrays, subdocuments, NaN — is left to the general path.

import { ObjectId } from 'bson';
import { canonicalKey, isDoc } from './bson-values.js';

function isLookupValue(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'bigint':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object':
      return v instanceof ObjectId || (v instanceof Date && !Number.isNaN(v.getTime()));
    default:
      return false;
  }
}

/**
 * The canonical `_id` keys a filter selects, deduplicated, when it is an `_id`-only equality or `$in`
 * of lookup values; undefined for any other filter. A document matches the filter exactly when its
 * `_id`'s canonical key is one of them (`_id` is never an array, so `$in` has no element semantics).
 */
export function idLookupKeys(filter: unknown): string[] | undefined {
  if (!isDoc(filter)) return undefined;
  let only: string | undefined;
  for (const k in filter) {
    if (only !== undefined) return undefined;
    only = k;
  }
  if (only !== '_id') return undefined;
  const cond = filter._id;
  if (isLookupValue(cond)) return [canonicalKey(cond)];
  if (!isDoc(cond)) return undefined;
  let op: string | undefined;
  for (const k in cond) {
    if (op !== undefined) return undefined;
    op = k;
  }
  if (op === '$eq') return isLookupValue(cond.$eq) ? [canonicalKey(cond.$eq)] : undefined;
  if (op !== '$in' || !Array.isArray(cond.$in)) return undefined;
  const keys = new Set<string>();
  for (const v of cond.$in as unknown[]) {
    if (!isLookupValue(v)) return undefined;
    keys.add(canonicalKey(v));
  }
  return [...keys];
}
