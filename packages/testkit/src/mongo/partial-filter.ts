// Partial indexes whose filter only asks for fields to exist (`{reply_to: {$exists: true}}`, several
// such fields, or an `$and` of them): the stand-in keeps them ordered and plans queries on them.
// The server uses such an index for a query whose conditions on each of those fields cannot match
// a missing field (an equality to a non-null value, a range, an `$in` without null): those documents
// all hold the field, so all are in the index. Any other partial filter is enforced for uniqueness
// only, and queries scan (as before).

import { type Doc, isDoc } from './bson-values.js';
import { keyValue, MULTIKEY } from './index-keys.js';

function isExistsTrue(v: unknown): boolean {
  if (!isDoc(v)) return false;
  const keys = Object.keys(v);
  const flag = v.$exists;
  return keys.length === 1 && (flag === true || flag === 1 || flag === 1n);
}

/** The paths an exists-only partial filter requires, or undefined for any other filter. */
export function existsOnlyPaths(filter: unknown): string[] | undefined {
  if (!isDoc(filter)) return undefined;
  const paths: string[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and') {
      if (!Array.isArray(value) || value.length === 0) return undefined;
      for (const part of value) {
        const inner = existsOnlyPaths(part);
        if (!inner) return undefined;
        paths.push(...inner);
      }
    } else if (key.startsWith('$') || !isExistsTrue(value)) {
      return undefined;
    } else {
      paths.push(key);
    }
  }
  return paths.length > 0 ? paths : undefined;
}

/**
 * The filter as a predicate: each path is looked up directly, and only a path that meets an array
 * (where `$exists` has array semantics) is left to `general`, the compiled filter.
 */
export function existsPredicate(paths: readonly string[], general: (doc: Doc) => boolean): (doc: Doc) => boolean {
  return (doc) => {
    let arrays = false;
    for (const path of paths) {
      const v = keyValue(doc, path);
      if (v === MULTIKEY) arrays = true;
      else if (v === undefined) return false;
    }
    return arrays ? general(doc) : true;
  };
}
