// How the stand-in compares, keys, walks and copies decoded BSON values. Documents are decoded
// with `useBigInt64`, so Int64 is a `bigint`, Int32/Double a `number`, Date a `Date`, and the
// rest bson classes; everything here follows MongoDB's rules for those types, not JavaScript's.

import { CommandError } from './errors.js';

/** A decoded BSON document. */
export type Doc = Record<string, unknown>;

/** MongoDB's cross-type sort order (numbers of every width are one class). */
const Rank = {
  MinKey: 1,
  Null: 2,
  Number: 3,
  String: 4,
  Object: 5,
  Array: 6,
  Binary: 7,
  ObjectId: 8,
  Boolean: 9,
  Date: 10,
  Timestamp: 11,
  RegExp: 12,
  Code: 13,
  MaxKey: 14,
} as const;

type BsonTagged = { _bsontype?: unknown };

function bsonType(v: object): string | undefined {
  const tag = (v as BsonTagged)._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

/** True for a plain (sub)document: a path can descend into it. */
export function isDoc(v: unknown): v is Doc {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function rank(v: unknown): number {
  if (v === null || v === undefined) return Rank.Null;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return Rank.Number;
    case 'string':
      return Rank.String;
    case 'boolean':
      return Rank.Boolean;
    case 'object':
      break;
    default:
      return Rank.Code;
  }
  if (Array.isArray(v)) return Rank.Array;
  if (v instanceof Date) return Rank.Date;
  if (v instanceof RegExp) return Rank.RegExp;
  if (v instanceof Uint8Array) return Rank.Binary;
  switch (bsonType(v)) {
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return Rank.Number;
    case 'BSONSymbol':
      return Rank.String;
    case 'Binary':
      return Rank.Binary;
    case 'ObjectId':
      return Rank.ObjectId;
    case 'Timestamp':
      return Rank.Timestamp;
    case 'BSONRegExp':
      return Rank.RegExp;
    case 'Code':
      return Rank.Code;
    case 'MinKey':
      return Rank.MinKey;
    case 'MaxKey':
      return Rank.MaxKey;
    default:
      return Rank.Object;
  }
}

/** A number of any BSON width as a JS number or bigint; mixed comparisons of the two are exact. */
function numeric(v: unknown): number | bigint {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  const tag = bsonType(v as object);
  if (tag === 'Long') return BigInt(String(v));
  return Number(String(v));
}

function cmpNumbers(a: number | bigint, b: number | bigint): number {
  // The server orders NaN below every other number and equal to itself.
  const aNaN = typeof a === 'number' && Number.isNaN(a);
  const bNaN = typeof b === 'number' && Number.isNaN(b);
  if (aNaN || bNaN) return aNaN && bNaN ? 0 : aNaN ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpPrimitive(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const buffer = (v as { buffer?: unknown }).buffer;
  return buffer instanceof Uint8Array ? buffer : new Uint8Array();
}

function cmpBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Orders two values as the server's sort and comparison operators do: first by BSON type class
 * (null < numbers < strings < objects < arrays < binary < ObjectId < booleans < dates < ...),
 * then by value, numerically across Int32, Int64 and Double.
 */
export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case Rank.Number:
      return cmpNumbers(numeric(a), numeric(b));
    case Rank.String:
      return cmpPrimitive(String(a), String(b));
    case Rank.Boolean:
      return cmpPrimitive(Number(a), Number(b));
    case Rank.Date:
      return cmpPrimitive((a as Date).getTime(), (b as Date).getTime());
    case Rank.ObjectId:
      return cmpPrimitive(String(a), String(b));
    case Rank.Binary: {
      const subA = (a as { sub_type?: number }).sub_type ?? 0;
      const subB = (b as { sub_type?: number }).sub_type ?? 0;
      const byLength = bytesOf(a).length - bytesOf(b).length;
      if (byLength !== 0) return byLength;
      return subA !== subB ? subA - subB : cmpBytes(bytesOf(a), bytesOf(b));
    }
    case Rank.Timestamp: {
      const ta = a as { t: number; i: number };
      const tb = b as { t: number; i: number };
      return ta.t !== tb.t ? cmpPrimitive(ta.t, tb.t) : cmpPrimitive(ta.i, tb.i);
    }
    case Rank.RegExp: {
      const sa = a as { source: string; flags?: string; pattern?: string; options?: string };
      const sb = b as { source: string; flags?: string; pattern?: string; options?: string };
      const bySource = cmpPrimitive(sa.source ?? sa.pattern ?? '', sb.source ?? sb.pattern ?? '');
      return bySource !== 0 ? bySource : cmpPrimitive(sa.flags ?? sa.options ?? '', sb.flags ?? sb.options ?? '');
    }
    case Rank.Array: {
      const xa = a as unknown[];
      const xb = b as unknown[];
      for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
        const c = compareValues(xa[i], xb[i]);
        if (c !== 0) return c;
      }
      return xa.length - xb.length;
    }
    case Rank.Object: {
      // Field by field, in stored order: type class, then name, then value (as the server does).
      const ea = Object.entries(a as Doc);
      const eb = Object.entries(b as Doc);
      for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
        const [ka, va] = ea[i]!;
        const [kb, vb] = eb[i]!;
        const byType = rank(va) - rank(vb);
        if (byType !== 0) return byType;
        const byName = cmpPrimitive(ka, kb);
        if (byName !== 0) return byName;
        const byValue = compareValues(va, vb);
        if (byValue !== 0) return byValue;
      }
      return ea.length - eb.length;
    }
    case Rank.Code:
      return cmpPrimitive(String(a), String(b));
    default:
      return 0;
  }
}

/**
 * The server's type alias for a value (`$type`, error messages). A JS number is 'int' when it is
 * an integer in Int32 range and 'double' otherwise: after decoding, a Double 3.0 looks like an int.
 */
export function bsonTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) && Math.abs(v) <= 0x7fffffff ? 'int' : 'double';
    case 'bigint':
      return 'long';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'object':
      break;
    default:
      return 'javascript';
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  if (isDoc(v)) return 'object';
  const names: Record<string, string> = {
    ObjectId: 'objectId',
    Binary: 'binData',
    Timestamp: 'timestamp',
    Decimal128: 'decimal',
    MinKey: 'minKey',
    MaxKey: 'maxKey',
    Code: 'javascript',
    Int32: 'int',
    Double: 'double',
    Long: 'long',
    BSONSymbol: 'symbol',
    BSONRegExp: 'regex',
  };
  return names[bsonType(v) ?? ''] ?? 'object';
}

/** Equality as the server's `$eq` and unique indexes see it (Int64 5 equals Int32 5). */
export function valuesEqual(a: unknown, b: unknown): boolean {
  return compareValues(a, b) === 0;
}

/** True when two values are in the same comparison bracket ($lt/$gt only compare within one). */
export function sameTypeClass(a: unknown, b: unknown): boolean {
  return rank(a) === rank(b);
}

/**
 * A string that is equal for two values exactly when the server would treat them as the same
 * index key or group key: used for unique indexes, `_id` lookups and `distinct`.
 */
export function canonicalKey(v: unknown): string {
  if (v === null || v === undefined) return 'N';
  switch (typeof v) {
    case 'bigint':
      return `n${v}`;
    case 'number':
      return Number.isInteger(v) ? `n${BigInt(v)}` : `n${v}`;
    case 'string':
      return `s${JSON.stringify(v)}`;
    case 'boolean':
      return v ? 'T' : 'F';
    case 'object':
      break;
    default:
      return `?${String(v)}`;
  }
  if (Array.isArray(v)) return `[${v.map(canonicalKey).join(',')}]`;
  if (v instanceof Date) return `d${v.getTime()}`;
  if (v instanceof RegExp) return `r${v.source}/${v.flags}`;
  if (isDoc(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${canonicalKey(x)}`)
      .join(',')}}`;
  }
  const tag = bsonType(v);
  switch (tag) {
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return canonicalKey(numeric(v));
    case 'ObjectId':
      return `o${String(v)}`;
    case 'Binary':
      return `b${(v as { sub_type?: number }).sub_type ?? 0}:${Buffer.from(bytesOf(v)).toString('base64')}`;
    default:
      return `${tag ?? 'object'}:${JSON.stringify(v)}`;
  }
}

/**
 * Every value a path reaches in a document, descending into arrays of subdocuments like the
 * server does. Missing fields contribute `undefined`. With `leafArrays: 'both'` an array at the
 * end of the path is listed itself and element by element (query semantics: `{tags: 'x'}` and
 * `{tags: ['x']}` both match); with `'elements'` only its elements (sort semantics).
 */
export function pathValues(doc: unknown, path: string, leafArrays: 'both' | 'elements' = 'both'): unknown[] {
  const out: unknown[] = [];
  walk(doc, path.split('.'), 0, out, leafArrays);
  return out;
}

function walk(value: unknown, segs: string[], i: number, out: unknown[], leafArrays: 'both' | 'elements'): void {
  if (i === segs.length) {
    if (Array.isArray(value)) {
      if (leafArrays === 'both') out.push(value);
      out.push(...value);
    } else {
      out.push(value);
    }
    return;
  }
  const seg = segs[i]!;
  if (Array.isArray(value)) {
    if (/^\d+$/.test(seg) && Number(seg) < value.length) walk(value[Number(seg)], segs, i + 1, out, leafArrays);
    for (const el of value) if (isDoc(el)) walk(el, segs, i, out, leafArrays);
    return;
  }
  if (isDoc(value)) {
    walk(value[seg], segs, i + 1, out, leafArrays);
    return;
  }
  out.push(undefined);
}

/** The value at a dotted path without array expansion (index keys, upsert seeds). */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const seg of path.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
    else if (isDoc(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

export type SortSpec = Record<string, 1 | -1>;

/** Parses a `sort` argument ({field: 1|-1}); `$natural` keeps insertion order, as on the server. */
export function parseSort(spec: unknown): SortSpec | undefined {
  if (spec === undefined || spec === null) return undefined;
  if (!isDoc(spec)) throw new CommandError('TypeMismatch', 'sort must be an object');
  const out: SortSpec = {};
  for (const [field, dir] of Object.entries(spec)) {
    if (field === '$natural') continue;
    const n = typeof dir === 'bigint' ? Number(dir) : dir;
    if (n !== 1 && n !== -1) {
      throw new CommandError('BadValue', '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    }
    out[field] = n;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Sort key of one field: the smallest element of an array for ascending order, the largest for descending. */
function sortKey(doc: Doc, field: string, dir: 1 | -1): unknown {
  const values = pathValues(doc, field, 'elements');
  let best: unknown;
  let first = true;
  for (const v of values) {
    if (first || compareValues(v, best) * dir < 0) best = v;
    first = false;
  }
  return best;
}

/** Stable sort by a spec, with the server's cross-type and numeric ordering. Returns a new array. */
export function sortDocs<T extends Doc>(docs: readonly T[], spec: SortSpec | undefined): T[] {
  if (!spec) return [...docs];
  const fields = Object.entries(spec);
  const keyed = docs.map((doc) => ({ doc, keys: fields.map(([f, d]) => sortKey(doc, f, d)) }));
  keyed.sort((x, y) => {
    for (let i = 0; i < fields.length; i++) {
      const c = compareValues(x.keys[i], y.keys[i]) * fields[i]![1];
      if (c !== 0) return c;
    }
    return 0;
  });
  return keyed.map((k) => k.doc);
}

/**
 * Deep copy of plain documents and arrays. bson class instances are shared: the stand-in never
 * mutates them, and copying them through structuredClone would drop their prototypes.
 */
export function cloneValue<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (isDoc(v)) {
    const out: Doc = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneValue(x);
    return out as T;
  }
  return v;
}

/** Renders a value the way the server prints it in error messages (`dup key: { _id: 1 }`). */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(v);
    case 'object':
      break;
    default:
      return String(v);
  }
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[ ${v.map(formatValue).join(', ')} ]`;
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (isDoc(v)) {
    const entries = Object.entries(v);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ')} }`;
  }
  if (bsonType(v) === 'ObjectId') return `ObjectId('${String(v)}')`;
  return String(v);
}
