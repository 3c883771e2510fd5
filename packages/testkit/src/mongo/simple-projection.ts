// The common find projection, applied without mingo: one included field path of plain names
// (`{'top.n': 1}`, `{n: 1, _id: 0}`), `_id` kept unless excluded. mingo's $project builds an
// aggregation pipeline per call (the store's cached-tops read spent most of its time there:
// bench/results/standin-writes.md). The result is mingo's, field for field, which
// test/unit/mongo-fast-paths.test.ts checks on random documents: along the path, a
// subdocument is kept (emptied of everything else) and anything else — a scalar, null, missing — is
// dropped with what lies below; the value at the end of the path is kept as it is (also an array).
// A document with an array above the end of the path (array projection semantics) or a BSON value
// there (mingo reads an ObjectId's own fields) is not handled here: the caller gives it to mingo.

import { type Doc, isDoc } from './bson-values.js';

/** A projection this file applies: the included path's segments and whether `_id` is kept. */
export interface SimpleProjection {
  segs: string[];
  keepId: boolean;
}

function isInclusion(v: unknown): boolean {
  return v === true || (typeof v === 'number' && v !== 0 && !Number.isNaN(v));
}

/** The projection as a SimpleProjection, or undefined when it has any other shape. */
export function simpleProjection(projection: Doc): SimpleProjection | undefined {
  let path: string | undefined;
  let keepId = true;
  for (const k in projection) {
    const v = projection[k];
    if (k === '_id') {
      if (v === false || v === 0) keepId = false;
      else if (!isInclusion(v)) return undefined;
    } else {
      if (path !== undefined || !isInclusion(v)) return undefined;
      path = k;
    }
  }
  if (path === undefined) return undefined;
  const segs = path.split('.');
  // Empty, operator, numeric (array index) segments, and paths under `_id`: mingo's business.
  if (segs[0] === '_id' || segs.some((s) => s.length === 0 || s.startsWith('$') || /^\d+$/.test(s))) return undefined;
  return { segs, keepId };
}

/** The part of `value` (a subdocument) along `segs` from `i`; undefined: an array or BSON value above the end. */
function under(value: Doc, segs: readonly string[], i: number): Doc | undefined {
  const out: Doc = {};
  const seg = segs[i]!;
  const child = value[seg];
  if (i === segs.length - 1) {
    if (child !== undefined) out[seg] = child;
  } else if (isDoc(child)) {
    const inner = under(child, segs, i + 1);
    if (inner === undefined) return undefined;
    out[seg] = inner;
  } else if (typeof child === 'object' && child !== null) {
    // An array, or a BSON value (ObjectId, Date, Binary, ...), which mingo walks into as an object.
    return undefined;
  }
  return out;
}

/** `doc` projected, `_id` first; undefined when the document needs mingo (an array or BSON value on the path). */
export function projectSimple(doc: Doc, p: SimpleProjection): Doc | undefined {
  const body = under(doc, p.segs, 0);
  if (body === undefined) return undefined;
  if (!p.keepId || doc._id === undefined) return body;
  return { _id: doc._id, ...body };
}
