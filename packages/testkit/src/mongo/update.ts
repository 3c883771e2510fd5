// Update semantics: operator updates, replacement documents, pipeline updates and upsert seeds.
// mingo applies most operators; the numeric ones ($inc, $mul, $max, $min) are done here because
// mingo ignores Int64 (`bigint`) fields, and $setOnInsert because mingo has no notion of insert.

import { BSON, ObjectId } from 'bson';
import type { AnyObject } from 'mingo/types';
import { update as mingoUpdate } from 'mingo/updater';
import {
  bsonTypeName,
  cloneValue,
  compareValues,
  type Doc,
  formatValue,
  getPath,
  isDoc,
  valuesEqual,
} from './bson-values.js';
import { CommandError } from './errors.js';
import { mingoOptions, runPipeline, withBigIntJson } from './query.js';

const MINGO_OPERATORS = new Set([
  '$set',
  '$unset',
  '$push',
  '$pull',
  '$pullAll',
  '$addToSet',
  '$pop',
  '$rename',
  '$currentDate',
  '$bit',
]);
const NUMERIC_OPERATORS = new Set(['$inc', '$mul', '$max', '$min']);

/** One update's bookkeeping (applyUpdate sets it up). */
export interface UpdateState {
  /** Values `$inc`, `$mul`, `$max` and `$min` wrote. */
  count: number;
  /** The containers this update owns (copied or created), when it shares the rest with the original. */
  fresh?: WeakSet<object> | undefined;
}

export interface UpdateContext {
  /** True when the update builds a new document for an upsert: $setOnInsert applies. */
  isInsert: boolean;
  arrayFilters?: Doc[] | undefined;
  variables?: Doc | undefined;
}

/** True when `u` is an operator update (`{$set: ...}`), false for a replacement document. */
export function isOperatorUpdate(u: Doc): boolean {
  const keys = Object.keys(u);
  const ops = keys.filter((k) => k.startsWith('$'));
  if (ops.length > 0 && ops.length !== keys.length) {
    throw new CommandError('FailedToParse', `Unknown modifier: ${keys.find((k) => !k.startsWith('$'))}`);
  }
  return ops.length > 0;
}

/**
 * The updated copy of `original` when the update changes its stored bytes, undefined when it does
 * not (the server's `nModified` does not count it); never mutates `original`. Updates of `$max` and
 * `$min` only are known to have changed the document when either wrote a value (one strictly above
 * or below the old one in BSON order, or a new field) without serializing both versions to compare.
 */
export function changedByUpdate(original: Doc, u: unknown, ctx: UpdateContext): Doc | undefined {
  const state: UpdateState = { count: 0 };
  const next = applyUpdate(original, u, ctx, state);
  if (state.count > 0 && isDoc(u) && Object.keys(u).every((op) => op === '$max' || op === '$min')) return next;
  return sameDocument(original, next) ? undefined : next;
}

/**
 * Returns the updated copy of `original` (never mutates it). `_id` may not change, as on the
 * server; for an insert the caller supplies the seed as `original`. `state.count` is raised for
 * every value `$inc`, `$mul`, `$max` or `$min` wrote.
 */
export function applyUpdate(original: Doc, u: unknown, ctx: UpdateContext, state: UpdateState = { count: 0 }): Doc {
  let next: Doc;
  if (Array.isArray(u)) {
    const [out, ...extra] = runPipeline([cloneValue(original)], u, { variables: ctx.variables });
    if (!out || extra.length > 0) throw new CommandError('BadValue', 'an update pipeline must produce one document');
    next = out;
  } else if (!isDoc(u)) {
    throw new CommandError('FailedToParse', 'Update argument must be either an object or an array');
  } else if (isOperatorUpdate(u)) {
    // Updates done here alone copy only the containers on their paths; mingo's updater may write
    // anywhere in the document, so it gets a deep copy.
    state.fresh = appliedHere(u, ctx) ? new WeakSet<object>() : undefined;
    next = applyOperators(state.fresh ? shallowCopy(original, state.fresh) : cloneValue(original), u, ctx, state);
  } else {
    if ('_id' in u && '_id' in original && !valuesEqual(u._id, original._id)) throw immutableId(original);
    const { _id: _ignored, ...rest } = u;
    next = '_id' in original ? { _id: original._id, ...cloneValue(rest) } : cloneValue(u);
  }
  if ('_id' in original && (!('_id' in next) || !valuesEqual(next._id, original._id))) throw immutableId(original);
  return withIdFirst(next);
}

function immutableId(doc: Doc): CommandError {
  return new CommandError(
    'ImmutableField',
    `Performing an update on the path '_id' would modify the immutable field '_id' (document ${formatValue({ _id: doc._id })})`,
  );
}

/** The server stores `_id` as the first field; generates an ObjectId when a new document has none. */
export function withIdFirst(doc: Doc): Doc {
  if (!('_id' in doc)) return { _id: new ObjectId(), ...doc };
  if (Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

/** Two operators may not touch the same path or a path and its prefix, as on the server. */
function checkConflicts(u: Doc): void {
  const seen: string[] = [];
  for (const [op, spec] of Object.entries(u)) {
    if (!isDoc(spec)) continue;
    const paths = Object.keys(spec);
    if (op === '$rename') paths.push(...Object.values(spec).map(String));
    for (const path of paths) {
      const clash = seen.find((p) => p === path || p.startsWith(`${path}.`) || path.startsWith(`${p}.`));
      if (clash !== undefined) {
        throw new CommandError(
          'ConflictingUpdateOperators',
          `Updating the path '${path}' would create a conflict at '${clash}'`,
        );
      }
      seen.push(path);
    }
  }
}

const ARRAY_OPERATORS = new Set(['$push', '$addToSet', '$pull', '$pullAll', '$pop']);

/**
 * mingo silently skips an operator whose path runs through a scalar, or that treats a scalar as
 * an array; the server fails the update instead, and tests must see that failure.
 */
function checkPaths(doc: Doc, op: string, spec: Doc): void {
  if (op === '$unset') return;
  for (const path of Object.keys(spec)) {
    const segs = path.split('.');
    if (segs.some((s) => s.startsWith('$'))) continue; // positional paths: left to mingo
    let cur: unknown = doc;
    for (let i = 0; i < segs.length - 1 && cur !== undefined; i++) {
      const seg = segs[i]!;
      const next: unknown = Array.isArray(cur) ? cur[Number(seg)] : isDoc(cur) ? cur[seg] : undefined;
      if (next !== undefined && next !== null && !isDoc(next) && !Array.isArray(next) && op !== '$pull') {
        throw new CommandError(
          'PathNotViable',
          `Cannot create field '${segs[i + 1]}' in element {${seg}: ${formatValue(next)}}`,
        );
      }
      cur = next;
    }
    const value = getPath(doc, path);
    if (ARRAY_OPERATORS.has(op) && value !== undefined && !Array.isArray(value)) {
      throw new CommandError(
        'BadValue',
        `The field '${path}' must be an array but is of type ${bsonTypeName(value)} in document {_id: ${formatValue(doc._id)}}`,
      );
    }
  }
}

/**
 * True when every operator of `u` is applied by this file, never by mingo: `$inc`, `$mul`, `$max`,
 * `$min`, and `$set`/`$unset` on plain paths without array filters (`$setOnInsert` of an update).
 */
function appliedHere(u: Doc, ctx: UpdateContext): boolean {
  for (const op in u) {
    if (NUMERIC_OPERATORS.has(op) || (op === '$setOnInsert' && !ctx.isInsert)) continue;
    const spec = u[op];
    if (
      (op === '$set' || op === '$unset') &&
      !ctx.arrayFilters &&
      isDoc(spec) &&
      Object.keys(spec).every(isPlainPath)
    ) {
      continue;
    }
    return false;
  }
  return true;
}

/**
 * A one-level copy of a subdocument (as cloneValue copies each level) or array, marked as this
 * update's own: containers not in `fresh` are shared with the stored document and are copied before
 * anything is written into them.
 */
function shallowCopy<T extends Doc | unknown[]>(v: T, fresh: WeakSet<object>): T {
  let out: Doc | unknown[];
  if (Array.isArray(v)) {
    out = v.slice();
  } else {
    out = {};
    for (const [k, x] of Object.entries(v)) out[k] = x;
  }
  fresh.add(out);
  return out as T;
}

/** `container[seg]`, copied into `container` first when it is a shared subdocument or array. */
function ownChild(container: Doc | unknown[], seg: string, fresh: WeakSet<object> | undefined): unknown {
  const child: unknown = Array.isArray(container) ? container[Number(seg)] : container[seg];
  if (!fresh || fresh.has(child as object) || (!isDoc(child) && !Array.isArray(child))) return child;
  const copy = shallowCopy(child, fresh);
  setChild(container, seg, copy);
  return copy;
}

function applyOperators(doc: Doc, u: Doc, ctx: UpdateContext, state: UpdateState): Doc {
  const fresh = state.fresh;
  checkConflicts(u);
  const forMingo: Record<string, Doc> = {};
  for (const [op, spec] of Object.entries(u)) {
    if (!isDoc(spec)) {
      throw new CommandError('FailedToParse', `Modifiers operate on fields but we found type ${typeof spec} instead.`);
    }
    if (op === '$setOnInsert') {
      if (ctx.isInsert) forMingo.$set = { ...forMingo.$set, ...spec };
    } else if (NUMERIC_OPERATORS.has(op)) {
      for (const [path, arg] of Object.entries(spec)) applyNumeric(doc, op, path, arg, state);
    } else if ((op === '$set' || op === '$unset') && !ctx.arrayFilters && Object.keys(spec).every(isPlainPath)) {
      checkPaths(doc, op, spec);
      for (const [path, value] of Object.entries(spec)) {
        if (op === '$set') modifyPath(doc, path, () => cloneValue(value), fresh);
        else unsetPath(doc, path, fresh);
      }
    } else if (MINGO_OPERATORS.has(op)) {
      checkPaths(doc, op, spec);
      forMingo[op] = op === '$set' ? { ...forMingo.$set, ...spec } : spec;
    } else {
      throw new CommandError(
        'FailedToParse',
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
  }
  if (Object.keys(forMingo).length > 0) {
    withBigIntJson(() =>
      mingoUpdate(doc as AnyObject, forMingo, ctx.arrayFilters as AnyObject[] | undefined, undefined, {
        // mingo refuses every update that names `_id`, even the upsert's `$set: {_id}` the server
        // allows; immutability is checked in applyUpdate instead, so point mingo at no field.
        queryOptions: { ...mingoOptions({ variables: ctx.variables }), idKey: '\u0000' },
      }),
    );
  }
  return doc;
}

/**
 * A path of field names only (no array index, no positional `$`): $set and $unset on such paths are
 * applied here rather than by mingo, whose updater builds a fresh operator context per call (≈ 0.2 ms,
 * most of the stand-in's time under the persister's upserts: bench/results/counting-ab-2026-12-02.md).
 */
function isPlainPath(path: string): boolean {
  return path.split('.').every((seg) => seg.length > 0 && !seg.startsWith('$') && !/^\d+$/.test(seg));
}

/**
 * Removes the field at `path` if it is there; a missing parent or a scalar on the way is a no-op.
 * With `fresh`, containers on the way are copied before the removal (see shallowCopy).
 */
function unsetPath(doc: Doc, path: string, fresh?: WeakSet<object>): void {
  const segs = path.split('.');
  let container: unknown = doc;
  for (const seg of segs.slice(0, -1)) {
    if (!isDoc(container)) return;
    container = ownChild(container, seg, fresh);
  }
  if (isDoc(container)) delete container[segs[segs.length - 1]!];
}

const MISSING = Symbol('missing');

/**
 * Walks to the parent of `path`, creating subdocuments like the server does; fails through scalars.
 * With `fresh`, containers on the way are copied before anything is written (see shallowCopy).
 */
function modifyPath(doc: Doc, path: string, fn: (current: unknown) => unknown, fresh?: WeakSet<object>): void {
  const segs = path.split('.');
  let container: Doc | unknown[] = doc;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    let child: unknown = ownChild(container, seg, fresh);
    if (child === undefined || child === null) {
      child = {};
      setChild(container, seg, child);
      fresh?.add(child as Doc);
    }
    if (!isDoc(child) && !Array.isArray(child)) {
      throw new CommandError(
        'PathNotViable',
        `Cannot create field '${segs[i + 1]}' in element {${seg}: ${formatValue(child)}}`,
      );
    }
    container = child;
  }
  const leaf = segs[segs.length - 1]!;
  const current = Array.isArray(container) ? container[Number(leaf)] : container[leaf];
  const next = fn(current === undefined ? MISSING : current);
  if (next !== MISSING) setChild(container, leaf, next);
}

function setChild(container: Doc | unknown[], seg: string, value: unknown): void {
  if (!Array.isArray(container)) {
    container[seg] = value;
    return;
  }
  if (!/^\d+$/.test(seg)) throw new CommandError('PathNotViable', `Cannot create field '${seg}' in an array`);
  const i = Number(seg);
  while (container.length < i) container.push(null);
  container[i] = value;
}

function isNumeric(v: unknown): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Int32/Int64 arithmetic stays integral (and exact); a Double operand makes the result a double. */
function arith(
  a: number | bigint,
  b: number | bigint,
  op: (x: number, y: number) => number,
  big: (x: bigint, y: bigint) => bigint,
) {
  if (typeof a === 'number' && typeof b === 'number') return op(a, b);
  if ((typeof a === 'number' && !Number.isInteger(a)) || (typeof b === 'number' && !Number.isInteger(b))) {
    return op(Number(a), Number(b));
  }
  return big(BigInt(a), BigInt(b));
}

function applyNumeric(doc: Doc, op: string, path: string, arg: unknown, state: UpdateState): void {
  if (path === '_id' || path.startsWith('_id.')) throw immutableId(doc);
  if ((op === '$inc' || op === '$mul') && !isNumeric(arg)) {
    const verb = op === '$inc' ? 'increment' : 'multiply';
    throw new CommandError('TypeMismatch', `Cannot ${verb} with non-numeric argument: {${path}: ${formatValue(arg)}}`);
  }
  modifyPath(
    doc,
    path,
    (current) => {
      const next = numericResult(doc, op, path, arg, current);
      if (next !== MISSING) state.count++;
      return next;
    },
    state.fresh,
  );
}

/** What `op` leaves at `path` given its `current` value (MISSING: leave it as it is). */
function numericResult(doc: Doc, op: string, path: string, arg: unknown, current: unknown): unknown {
  if (current === MISSING) {
    if (op === '$mul') return typeof arg === 'bigint' ? 0n : 0;
    return cloneValue(arg);
  }
  switch (op) {
    case '$inc':
    case '$mul': {
      if (!isNumeric(current)) {
        throw new CommandError(
          'TypeMismatch',
          `Cannot apply ${op} to a value of non-numeric type. {_id: ${formatValue(doc._id)}} has the field '${path}' of non-numeric type ${bsonTypeName(current)}`,
        );
      }
      const n = arg as number | bigint;
      return op === '$inc'
        ? arith(
            current,
            n,
            (x, y) => x + y,
            (x, y) => x + y,
          )
        : arith(
            current,
            n,
            (x, y) => x * y,
            (x, y) => x * y,
          );
    }
    case '$max':
      return compareValues(arg, current) > 0 ? cloneValue(arg) : MISSING;
    default:
      return compareValues(arg, current) < 0 ? cloneValue(arg) : MISSING;
  }
}

/**
 * The document an upsert starts from: the equality conditions of the filter (`{a: 1}`,
 * `{a: {$eq: 1}}`, inside `$and`), as the server builds it before applying the update.
 */
export function upsertSeed(filter: unknown): Doc {
  const seed: Doc = {};
  collectEqualities(filter, seed);
  return seed;
}

function collectEqualities(filter: unknown, seed: Doc): void {
  if (!isDoc(filter)) return;
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const clause of value) collectEqualities(clause, seed);
    } else if (key.startsWith('$') || value instanceof RegExp) {
      // Non-equality conditions ($or, $expr, regexes) contribute nothing to the new document.
    } else if (isDoc(value) && Object.keys(value).some((k) => k.startsWith('$'))) {
      if ('$eq' in value) modifyPath(seed, key, () => cloneValue(value.$eq));
    } else {
      modifyPath(seed, key, () => cloneValue(value));
    }
  }
}

/** True when an update left the stored bytes unchanged: the server's `nModified` does not count it. */
export function sameDocument(a: Doc, b: Doc): boolean {
  return Buffer.from(BSON.serialize(a)).equals(Buffer.from(BSON.serialize(b)));
}
