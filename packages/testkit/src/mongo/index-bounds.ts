// Index bounds: for each leading field of an index, the intervals of values a query can match,
// built from the filter's equality, `$in` and range conditions. Bounds may take in more than the
// filter matches (the matcher still tests every candidate), never less.

import { compareValues, type Doc, isDoc, sameTypeClass } from './bson-values.js';
import { isBoundValue } from './index-keys.js';

/** Values between `lo` and `hi` (either side open when undefined); `point` when lo = hi, both included. */
export interface Interval {
  lo?: unknown;
  loInc: boolean;
  hi?: unknown;
  hiInc: boolean;
  point: boolean;
  /** Ranges only: values must be of this value's type class ($gt/$lt compare within one class). */
  cls?: unknown;
}

export function pointInterval(v: unknown): Interval {
  return { lo: v, loInc: true, hi: v, hiInc: true, point: true };
}

/** -1 when `v` lies below the interval (in value order), 1 above it, 0 inside. */
export function intervalSide(v: unknown, iv: Interval): -1 | 0 | 1 {
  if (iv.cls !== undefined && !sameTypeClass(v, iv.cls)) return compareValues(v, iv.cls) < 0 ? -1 : 1;
  if (iv.lo !== undefined) {
    const c = compareValues(v, iv.lo);
    if (c < 0 || (c === 0 && !iv.loInc)) return -1;
  }
  if (iv.hi !== undefined) {
    const c = compareValues(v, iv.hi);
    if (c > 0 || (c === 0 && !iv.hiInc)) return 1;
  }
  return 0;
}

/** True when the interval can hold null or a missing field. */
export function includesNull(iv: Interval): boolean {
  return iv.point ? iv.lo === null : iv.cls === undefined;
}

function isOperatorDoc(v: unknown): v is Doc {
  if (!isDoc(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

/** Top-level conditions per field path, including those inside a top-level `$and`. */
export function fieldConditions(filter: unknown, out = new Map<string, unknown[]>()): Map<string, unknown[]> {
  if (!isDoc(filter)) return out;
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const part of value) fieldConditions(part, out);
    } else if (!key.startsWith('$')) {
      const list = out.get(key) ?? [];
      list.push(value);
      out.set(key, list);
    }
  }
  return out;
}

function points(values: unknown[]): Interval[] {
  const sorted = [...values].sort(compareValues);
  const out: Interval[] = [];
  for (const v of sorted) {
    const prev = out[out.length - 1];
    if (!prev || compareValues(prev.lo, v) !== 0) out.push(pointInterval(v));
  }
  return out;
}

function equalityIntervals(cond: unknown): Interval[] | undefined {
  if (isOperatorDoc(cond)) {
    if ('$eq' in cond && isBoundValue(cond.$eq)) return [pointInterval(cond.$eq)];
    const list = cond.$in;
    if (Array.isArray(list) && list.every(isBoundValue)) return points(list);
    return undefined;
  }
  if (isDoc(cond) || !isBoundValue(cond)) return undefined;
  return [pointInterval(cond)];
}

const RANGE_OPS = ['$gt', '$gte', '$lt', '$lte'] as const;

/** One interval from every `$gt/$gte/$lt/$lte` of the conditions that shares the first one's type class. */
function rangeInterval(conds: unknown[]): Interval | undefined {
  let iv: Interval | undefined;
  for (const cond of conds) {
    if (!isOperatorDoc(cond)) continue;
    for (const op of RANGE_OPS) {
      const v = cond[op];
      if (v === undefined || v === null || !isBoundValue(v)) continue;
      iv ??= { loInc: false, hiInc: false, point: false, cls: v };
      if (!sameTypeClass(v, iv.cls)) continue;
      const inclusive = op === '$gte' || op === '$lte';
      if (op === '$gt' || op === '$gte') {
        const c = iv.lo === undefined ? 1 : compareValues(v, iv.lo);
        if (c > 0 || (c === 0 && !inclusive)) [iv.lo, iv.loInc] = [v, inclusive];
      } else {
        const c = iv.hi === undefined ? -1 : compareValues(v, iv.hi);
        if (c < 0 || (c === 0 && !inclusive)) [iv.hi, iv.hiInc] = [v, inclusive];
      }
    }
  }
  return iv;
}

/** The intervals one field's conditions allow, or undefined when they cannot bound an index. */
export function fieldIntervals(conds: unknown[] | undefined): Interval[] | undefined {
  if (!conds) return undefined;
  for (const cond of conds) {
    const eq = equalityIntervals(cond);
    if (eq) return eq;
  }
  const range = rangeInterval(conds);
  return range ? [range] : undefined;
}
