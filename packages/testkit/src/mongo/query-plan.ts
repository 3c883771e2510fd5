// The stand-in's query planner: picks the index whose leading fields the filter bounds best, in
// the order of preference below, or none (a scan). An index also provides the sort when the sort
// fields, less those the bounds fix to one value, are the index's next fields in index order or
// all reversed; the query can then stop early once it has `skip + limit` matches.

import type { Doc, SortSpec } from './bson-values.js';
import { isDoc } from './bson-values.js';
import { fieldConditions, fieldIntervals, type Interval, includesNull } from './index-bounds.js';
import type { KeyField } from './index-keys.js';

/** What the planner needs to know of an index. */
export interface PlannableIndex {
  name: string;
  fields: readonly KeyField[];
  unique: boolean;
  sparse: boolean;
  /**
   * Fields of a partial index's `$exists: true` filter: the index lacks the documents missing them,
   * so it answers only queries whose conditions on each cannot match a missing or null field.
   */
  requires?: readonly string[];
  /** False when the index cannot answer queries (multikey documents). */
  usable: boolean;
  singleType(i: number): boolean;
}

export interface QueryPlan {
  /** Position of the chosen index in the list given to the planner. */
  index: number;
  /** Intervals for each leading field of the index. */
  bounds: Interval[][];
  /** Walk the index in its order (true) or reversed. */
  forward: boolean;
  /** The walk yields documents in sort order: the query may stop after `skip + limit` matches. */
  sortProvided: boolean;
  /** Key positions of the sort fields the walk orders by (ties are documents equal on all of them). */
  sortPositions: number[];
  /**
   * Documents tied on the sort key come out identical after the projection, so an early stop need
   * not finish the tie (which would otherwise be read to pick the first-inserted ones, as a scan does).
   */
  tiesIdentical: boolean;
}

interface Candidate {
  plan: QueryPlan;
  score: number[];
}

function isSinglePoint(ivs: Interval[] | undefined): boolean {
  return ivs !== undefined && ivs.length === 1 && ivs[0]!.point;
}

function sortOrder(
  fields: readonly KeyField[],
  bounds: Interval[][],
  sort: SortSpec | undefined,
): { forward: boolean; positions: number[] } | undefined {
  const fixed = (i: number) => isSinglePoint(bounds[i]);
  const wanted = Object.entries(sort ?? {}).filter(([path]) => !fields.some((f, i) => f.path === path && fixed(i)));
  if (wanted.length === 0) return undefined;
  const rest = fields.map((f, i) => ({ ...f, i })).filter((f) => !fixed(f.i));
  const first = rest[0];
  if (!first || first.path !== wanted[0]![0]) return undefined;
  const flip = wanted[0]![1] * first.dir;
  const positions: number[] = [];
  for (let j = 0; j < wanted.length; j++) {
    const f = rest[j];
    const [path, dir] = wanted[j]!;
    if (!f || f.path !== path || dir * f.dir !== flip) return undefined;
    positions.push(f.i);
  }
  return { forward: flip === 1, positions };
}

function isIncluded(v: unknown): boolean {
  return v === true || v === 1 || v === 1n;
}

function isExcluded(v: unknown): boolean {
  return v === false || v === 0 || v === 0n;
}

/** The projection keeps only index fields that are equal on every document of a tie, with one type each. */
function projectionTiesIdentical(
  projection: unknown,
  index: PlannableIndex,
  bounds: Interval[][],
  positions: number[],
): boolean {
  if (!isDoc(projection)) return false;
  const entries = Object.entries(projection);
  if (entries.length === 0) return false;
  const constant = (path: string) => {
    const i = index.fields.findIndex((f) => f.path === path);
    return i >= 0 && (positions.includes(i) || isSinglePoint(bounds[i])) && index.singleType(i);
  };
  if (!('_id' in projection) || !isExcluded(projection._id)) {
    if (!constant('_id')) return false;
  }
  return entries.every(([path, v]) => (path === '_id' && isExcluded(v)) || (isIncluded(v) && constant(path)));
}

function planFor(
  index: PlannableIndex,
  position: number,
  conditions: Map<string, unknown[]>,
  sort: SortSpec | undefined,
  projection: unknown,
  limited: boolean,
): Candidate | undefined {
  if (!index.usable) return undefined;
  const bounds: Interval[][] = [];
  for (const f of index.fields) {
    const ivs = fieldIntervals(conditions.get(f.path));
    if (!ivs) break;
    bounds.push(ivs);
  }
  // A sparse index lacks the documents missing all its fields: only usable when those cannot match.
  if (index.sparse && !bounds.some((ivs) => ivs.every((iv) => !includesNull(iv)))) return undefined;
  for (const path of index.requires ?? []) {
    const ivs = fieldIntervals(conditions.get(path));
    if (!ivs || ivs.some(includesNull)) return undefined;
  }
  const order = sortOrder(index.fields, bounds, sort);
  if (bounds.length === 0 && !(order && limited)) return undefined;
  let leadingPoints = 0;
  while (leadingPoints < bounds.length && bounds[leadingPoints]!.every((iv) => iv.point)) leadingPoints++;
  const uniqueLookup = index.unique && leadingPoints === index.fields.length;
  const plan: QueryPlan = {
    index: position,
    bounds,
    forward: order?.forward ?? true,
    sortProvided: order !== undefined,
    sortPositions: order?.positions ?? [],
    tiesIdentical: order !== undefined && projectionTiesIdentical(projection, index, bounds, order.positions),
  };
  return { plan, score: [uniqueLookup ? 1 : 0, leadingPoints, bounds.length, order ? 1 : 0] };
}

function better(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

/**
 * The plan for a query, or undefined to scan. Preference: a unique index fixed on every field,
 * then the most leading fields fixed to points, then the most bounded fields, then one that
 * provides the sort; among equals the first declared.
 */
export function planQuery(
  indexes: readonly PlannableIndex[],
  query: { filter?: unknown; sort?: SortSpec | undefined; projection?: unknown; limited: boolean },
): QueryPlan | undefined {
  const conditions = fieldConditions(query.filter as Doc | undefined);
  let best: Candidate | undefined;
  indexes.forEach((index, i) => {
    const c = planFor(index, i, conditions, query.sort, query.projection, query.limited);
    if (c && (!best || better(c.score, best.score))) best = c;
  });
  return best?.plan;
}
