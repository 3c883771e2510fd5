// Filters, projections and aggregation pipelines, evaluated by mingo with the comparison
// operators replaced: mingo compares an Int64 (`bigint`) as a string and never equal to a
// number, which would mis-order snowflake ids; these versions use the server's BSON order.

import { ObjectId } from 'bson';
import { Aggregator } from 'mingo/aggregator';
import { Context, evalExpr, ProcessingMode } from 'mingo/core';
import { Lazy } from 'mingo/lazy';
import * as accumulatorOps from 'mingo/operators/accumulator';
import * as expressionOps from 'mingo/operators/expression';
import * as pipelineOps from 'mingo/operators/pipeline';
import * as projectionOps from 'mingo/operators/projection';
import * as queryOps from 'mingo/operators/query';
import * as windowOps from 'mingo/operators/window';
import { Query } from 'mingo/query';
import type { AnyObject, Options } from 'mingo/types';
import {
  bsonTypeName,
  compareValues,
  type Doc,
  isDoc,
  parseSort,
  pathValues,
  sameTypeClass,
  sortDocs,
  valuesEqual,
} from './bson-values.js';
import { CommandError } from './errors.js';
import { projectSimple, simpleProjection } from './simple-projection.js';

type Predicate = (obj: AnyObject) => boolean;

/** Only the `$name` exports of an operator module (the namespaces also carry `default`). */
function operators<T>(mod: Record<string, unknown>): Record<`$${string}`, T> {
  const out: Record<string, T> = {};
  for (const [name, fn] of Object.entries(mod)) if (name.startsWith('$')) out[name] = fn as T;
  return out;
}

function eqMatch(lhs: unknown[], rhs: unknown): boolean {
  if (rhs === null) return lhs.some((v) => v === null || v === undefined);
  if (rhs instanceof RegExp) return lhs.some((v) => typeof v === 'string' && rhs.test(v));
  return lhs.some((v) => v !== undefined && valuesEqual(v, rhs));
}

function inMatch(lhs: unknown[], rhs: unknown): boolean {
  if (!Array.isArray(rhs)) throw new CommandError('BadValue', '$in needs an array');
  return rhs.some((r) => eqMatch(lhs, r));
}

function rangeMatch(test: (c: number) => boolean, lhs: unknown[], rhs: unknown): boolean {
  // `$gte: null` / `$lte: null` match null and missing, as on the server.
  if (rhs === null) return test(0) && lhs.some((v) => v === null || v === undefined);
  return lhs.some((v) => v !== undefined && sameTypeClass(v, rhs) && test(compareValues(v, rhs)));
}

function fieldOperator(match: (lhs: unknown[], rhs: unknown) => boolean) {
  return (selector: string, value: unknown, _options: Options): Predicate => {
    return (obj) => match(pathValues(obj, selector), value);
  };
}

/** `$type` by number or alias; 'number' matches every numeric type. */
const TYPE_NUMBERS: Record<number, string> = {
  1: 'double',
  2: 'string',
  3: 'object',
  4: 'array',
  5: 'binData',
  6: 'undefined',
  7: 'objectId',
  8: 'bool',
  9: 'date',
  10: 'null',
  11: 'regex',
  13: 'javascript',
  16: 'int',
  17: 'timestamp',
  18: 'long',
  19: 'decimal',
  [-1]: 'minKey',
  127: 'maxKey',
};
const NUMERIC_TYPES = new Set(['double', 'int', 'long', 'decimal']);

function typeMatch(lhs: unknown[], rhs: unknown): boolean {
  const wanted = (Array.isArray(rhs) ? rhs : [rhs]).map((t) =>
    typeof t === 'number' || typeof t === 'bigint' ? TYPE_NUMBERS[Number(t)] : String(t),
  );
  return lhs.some((v) => {
    if (v === undefined) return false;
    const name = bsonTypeName(v);
    return wanted.some((w) => w === name || (w === 'number' && NUMERIC_TYPES.has(name)));
  });
}

const bsonQueryOps = {
  $type: fieldOperator(typeMatch),
  $eq: fieldOperator(eqMatch),
  $ne: fieldOperator((lhs, rhs) => !eqMatch(lhs, rhs)),
  $in: fieldOperator(inMatch),
  $nin: fieldOperator((lhs, rhs) => !inMatch(lhs, rhs)),
  $gt: fieldOperator((lhs, rhs) => rangeMatch((c) => c > 0, lhs, rhs)),
  $gte: fieldOperator((lhs, rhs) => rangeMatch((c) => c >= 0, lhs, rhs)),
  $lt: fieldOperator((lhs, rhs) => rangeMatch((c) => c < 0, lhs, rhs)),
  $lte: fieldOperator((lhs, rhs) => rangeMatch((c) => c <= 0, lhs, rhs)),
};

function expressionComparison(test: (c: number) => boolean) {
  return (obj: AnyObject, expr: unknown, options: Options): boolean => {
    const args = evalExpr(obj, expr, options);
    if (!Array.isArray(args) || args.length !== 2) throw new CommandError('BadValue', 'comparison expects 2 arguments');
    return test(compareValues(args[0], args[1]));
  };
}

const bsonExpressionOps = {
  $eq: expressionComparison((c) => c === 0),
  $ne: expressionComparison((c) => c !== 0),
  $gt: expressionComparison((c) => c > 0),
  $gte: expressionComparison((c) => c >= 0),
  $lt: expressionComparison((c) => c < 0),
  $lte: expressionComparison((c) => c <= 0),
  $cmp: (obj: AnyObject, expr: unknown, options: Options): number => {
    const args = evalExpr(obj, expr, options) as unknown[];
    return Math.sign(compareValues(args[0], args[1]));
  },
};

function isNumeric(v: unknown): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** `$sum` keeps Int64 exact: integers stay `bigint` once one Int64 is involved, doubles win over both. */
function sumValues(values: unknown[]): number | bigint {
  const nums = values.filter(isNumeric);
  if (nums.some((n) => typeof n === 'bigint') && nums.every((n) => typeof n === 'bigint' || Number.isInteger(n))) {
    return nums.reduce<bigint>((acc, n) => acc + BigInt(n), 0n);
  }
  return nums.reduce<number>((acc, n) => acc + Number(n), 0);
}

/** Evaluates an accumulator's expression per document, with each document as `$$ROOT` (mingo's $push does that). */
function accumulatedValues(coll: AnyObject[], expr: unknown, options: Options): unknown[] {
  return accumulatorOps.$push(coll, expr, options) as unknown[];
}

function extreme(dir: 1 | -1) {
  return (coll: AnyObject[], expr: unknown, options: Options): unknown => {
    let best: unknown = null;
    for (const v of accumulatedValues(coll, expr, options)) {
      if (v === null || v === undefined) continue;
      if (best === null || compareValues(v, best) * dir > 0) best = v;
    }
    return best;
  };
}

const bsonAccumulatorOps = {
  $sum: (coll: AnyObject[], expr: unknown, options: Options) => sumValues(accumulatedValues(coll, expr, options)),
  $avg: (coll: AnyObject[], expr: unknown, options: Options) => {
    const nums = accumulatedValues(coll, expr, options).filter(isNumeric);
    return nums.length === 0 ? null : nums.reduce<number>((acc, n) => acc + Number(n), 0) / nums.length;
  },
  $max: extreme(1),
  $min: extreme(-1),
};

const bsonPipelineOps = {
  // mingo's $sort orders bigints as strings; the stage must use the server's order.
  $sort: (coll: ReturnType<typeof Lazy>, spec: unknown, _options: Options) =>
    coll.transform((docs: unknown[]) => Lazy(sortDocs(docs as Doc[], parseSort(spec)))),
  $out: () => {
    throw new CommandError('IllegalOperation', 'stand-in does not implement aggregation stage $out');
  },
  $merge: () => {
    throw new CommandError('IllegalOperation', 'stand-in does not implement aggregation stage $merge');
  },
};

// Spread order matters: later entries replace mingo's operators of the same name.
const CONTEXT = Context.init({
  query: { ...operators(queryOps), ...bsonQueryOps },
  expression: { ...operators(expressionOps), ...bsonExpressionOps },
  accumulator: { ...operators(accumulatorOps), ...bsonAccumulatorOps },
  pipeline: { ...operators(pipelineOps), ...bsonPipelineOps },
  projection: operators(projectionOps),
  window: operators(windowOps),
} as Parameters<typeof Context.init>[0]);

/**
 * The query operators alone, for filters without `$expr`: mingo copies a query's whole context each
 * time it compiles one, and the expression operators are most of it (the stand-in's time under the
 * persister's conditional upserts: bench/results/counting-ab-2026-12-02.md).
 */
const FILTER_CONTEXT = Context.init({
  query: { ...operators(queryOps), ...bsonQueryOps },
} as Parameters<typeof Context.init>[0]);

/** True when `value` holds an `$expr` (or `$where`) at any depth: it needs the expression operators. */
function needsExpressions(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(needsExpressions);
  if (!isDoc(value)) return false;
  for (const [k, v] of Object.entries(value)) if (k === '$expr' || k === '$where' || needsExpressions(v)) return true;
  return false;
}

/**
 * Runs mingo code that may build a Query. mingo's Query constructor formats its condition with
 * JSON.stringify eagerly (for an assertion message), which throws on any `bigint`, i.e. on every
 * filter that mentions an Int64. For the synchronous extent of `fn` only, bigints serialize as
 * strings; nothing else runs in between, and an existing toJSON is left alone.
 */
export function withBigIntJson<T>(fn: () => T): T {
  const proto = BigInt.prototype as { toJSON?: () => string };
  if (Object.hasOwn(proto, 'toJSON')) return fn();
  Object.defineProperty(proto, 'toJSON', {
    configurable: true,
    writable: true,
    value(this: bigint) {
      return this.toString();
    },
  });
  try {
    return fn();
  } finally {
    delete proto.toJSON;
  }
}

export interface EvalOptions {
  /** `let` variables of the command, visible as `$$name` in `$expr` and pipelines. */
  variables?: Doc;
  /** Resolves `$lookup`/`$unionWith` collection names within the same database. */
  collectionResolver?: (name: string) => Doc[];
}

/** mingo options with the BSON-aware context: shared with the update evaluator. */
export function mingoOptions(opts: EvalOptions = {}): Partial<Options> {
  return {
    context: CONTEXT,
    scriptEnabled: false,
    ...(opts.variables ? { variables: opts.variables } : {}),
    ...(opts.collectionResolver ? { collectionResolver: opts.collectionResolver as (n: string) => AnyObject[] } : {}),
  };
}

/**
 * False only when JSON.stringify of `value` certainly meets no `bigint`: primitives, dates, regexes,
 * ObjectIds, and arrays and subdocuments of those. Any other object (a BSON value whose toJSON might
 * hold one) counts as holding one.
 */
export function mayHoldBigInt(value: unknown): boolean {
  if (typeof value === 'bigint') return true;
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(mayHoldBigInt);
  if (isDoc(value)) {
    for (const k in value) if (mayHoldBigInt(value[k])) return true;
    return false;
  }
  return !(value instanceof Date || value instanceof RegExp || value instanceof ObjectId);
}

/**
 * Compiles a query filter once; the returned predicate tests documents. The BigInt serialization
 * of withBigIntJson (≈ 8 µs a call: it reshapes BigInt.prototype twice) is set up only for a filter
 * that may hold a bigint, the only thing mingo's JSON.stringify of it could choke on.
 */
export function compileFilter(filter: unknown, opts: EvalOptions = {}): (doc: Doc) => boolean {
  if (filter === undefined || filter === null) return () => true;
  if (!isDoc(filter)) throw new CommandError('TypeMismatch', "BSON field 'filter' is the wrong type, expected object");
  if (Object.keys(filter).length === 0) return () => true;
  const options = needsExpressions(filter) ? mingoOptions(opts) : { ...mingoOptions(opts), context: FILTER_CONTEXT };
  const build = () => new Query(filter, options);
  const query = mayHoldBigInt(filter) ? withBigIntJson(build) : build();
  return (doc) => query.test(doc);
}

/** mingo's $project appends `_id` after the projected fields; the server keeps it first. */
function idFirst(doc: Doc): Doc {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

/**
 * Applies a find-style projection; documents come back as new objects. One included path
 * (`{'top.n': 1}`) is applied without mingo, with mingo's result (simple-projection.ts).
 */
export function projectDocs(docs: Doc[], projection: unknown): Doc[] {
  if (projection === undefined || projection === null) return docs;
  if (!isDoc(projection)) throw new CommandError('TypeMismatch', 'projection must be an object');
  if (Object.keys(projection).length === 0) return docs;
  const simple = simpleProjection(projection);
  if (simple) return docs.map((doc) => projectSimple(doc, simple) ?? mingoProject([doc], projection)[0]!);
  return mingoProject(docs, projection);
}

/** Any find-style projection through mingo's $project (projectDocs' general path; tests compare with it). */
export function mingoProject(docs: Doc[], projection: Doc): Doc[] {
  const out = withBigIntJson(() => new Aggregator([{ $project: projection }], mingoOptions()).run(docs) as Doc[]);
  return out.map(idFirst);
}

/** Runs an aggregation pipeline over a snapshot of a collection. */
export function runPipeline(docs: Doc[], pipeline: unknown, opts: EvalOptions = {}): Doc[] {
  if (!Array.isArray(pipeline))
    throw new CommandError('TypeMismatch', "'pipeline' option must be specified as an array");
  for (const stage of pipeline) {
    if (!isDoc(stage) || Object.keys(stage).length !== 1) {
      throw new CommandError('BadValue', 'A pipeline stage specification object must contain exactly one field.');
    }
  }
  // Some stages write into their input documents; those are the stored ones, so clone them first.
  const options = { ...mingoOptions(opts), processingMode: ProcessingMode.CLONE_INPUT };
  const out = withBigIntJson(() => new Aggregator(pipeline as AnyObject[], options).run(docs) as Doc[]);
  return out.map(idFirst);
}
