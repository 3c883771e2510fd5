// Answers a query from an index walk with exactly the result a scan gives: candidates come from
// the index, every one goes through the full matcher, and the survivors are ordered as the scan
// orders them (by the sort, ties in insertion order) before skip and limit apply. When the walk
// already yields the sort order, it stops at `skip + limit` matches — after finishing the group
// of documents tied with the last one, unless the projection makes tied documents identical.

import { compareValues, type Doc, type SortSpec, sortDocs } from './bson-values.js';
import type { IndexKey } from './index-keys.js';
import type { QueryPlan } from './query-plan.js';

/** A stored document and its insertion number (the scan's order). */
export interface StoredDoc {
  doc: Doc;
  seq: number;
}

export interface FindWindow {
  sort?: SortSpec | undefined;
  skip?: number | undefined;
  /** 0 or absent: no limit. */
  limit?: number | undefined;
}

function sameSortKey(a: IndexKey, b: IndexKey, positions: readonly number[]): boolean {
  return positions.every((i) => compareValues(a[i], b[i]) === 0);
}

/** Sorts and pages matched documents exactly as the scan path does. */
export function pageOf(docs: Doc[], window: FindWindow): Doc[] {
  const skip = window.skip ?? 0;
  const limit = window.limit ?? 0;
  return sortDocs(docs, window.sort).slice(skip, limit > 0 ? skip + limit : undefined);
}

export function indexedFind(
  walk: Iterable<[IndexKey, StoredDoc]>,
  plan: QueryPlan,
  match: (doc: Doc) => boolean,
  window: FindWindow,
): Doc[] {
  const limit = window.limit ?? 0;
  const want = plan.sortProvided && limit > 0 ? (window.skip ?? 0) + limit : Number.POSITIVE_INFINITY;
  const found: StoredDoc[] = [];
  let lastKey: IndexKey | undefined;
  for (const [key, stored] of walk) {
    if (found.length >= want) {
      if (plan.tiesIdentical || !sameSortKey(key, lastKey!, plan.sortPositions)) break;
    }
    if (!match(stored.doc)) continue;
    found.push(stored);
    lastKey = key;
  }
  found.sort((a, b) => a.seq - b.seq);
  return pageOf(
    found.map((s) => s.doc),
    window,
  );
}
