// `find` with a top-level `$text` condition: the collection's text index must exist (else the
// server's "text index required for $text query", IndexNotFound), every document is scored
// (text-search.ts), the rest of the filter applies, then sort (which may be `{$meta: 'textScore'}`),
// skip, limit and a projection that may hold `{$meta: 'textScore'}` fields.

import { type Doc, isDoc, type SortSpec, sortDocs } from './bson-values.js';
import { CommandError } from './errors.js';
import { compileFilter, type EvalOptions, projectDocs } from './query.js';
import type { Collection } from './store.js';
import { isTextKey, parseSearch, scoreDocument, textFields } from './text-search.js';

/** The `$text` condition and the rest of a filter, or undefined when the filter has no top-level `$text`. */
export function splitTextFilter(filter: unknown): { text: Doc; rest: Doc } | undefined {
  if (!isDoc(filter) || !Object.hasOwn(filter, '$text')) return undefined;
  const { $text, ...rest } = filter;
  if (!isDoc($text)) throw new CommandError('BadValue', '$text expects an object');
  return { text: $text, rest };
}

export interface TextFind {
  sort?: unknown;
  skip?: number | undefined;
  limit?: number | undefined;
  projection?: unknown;
  variables?: EvalOptions['variables'];
}

function isTextScoreMeta(v: unknown): boolean {
  if (!isDoc(v) || !Object.hasOwn(v, '$meta')) return false;
  if (v.$meta !== 'textScore' || Object.keys(v).length !== 1) {
    throw new CommandError('BadValue', `stand-in implements only {$meta: "textScore"}, got ${JSON.stringify(v)}`);
  }
  return true;
}

function searchString(text: Doc): string {
  for (const key of Object.keys(text)) {
    if (!['$search', '$language', '$caseSensitive', '$diacriticSensitive'].includes(key)) {
      throw new CommandError('BadValue', `extra fields in $text: ${key}`);
    }
  }
  if (typeof text.$search !== 'string') throw new CommandError('BadValue', '$search needs a String');
  if (text.$language !== undefined && text.$language !== 'none') {
    throw new CommandError('IllegalOperation', 'stand-in implements $text only with $language "none"');
  }
  if (text.$caseSensitive === true || text.$diacriticSensitive === true) {
    throw new CommandError('IllegalOperation', 'stand-in implements only case- and diacritic-insensitive $text');
  }
  return text.$search;
}

/** Wrapped documents sort on `d.<field>`; the textScore sorts on `s`, highest first, as on the server. */
function wrappedSort(sort: unknown): SortSpec | undefined {
  if (sort === undefined || sort === null) return undefined;
  if (!isDoc(sort)) throw new CommandError('TypeMismatch', 'sort must be an object');
  const out: SortSpec = {};
  for (const [field, dir] of Object.entries(sort)) {
    if (isTextScoreMeta(dir)) {
      out.s = -1;
      continue;
    }
    const n = typeof dir === 'bigint' ? Number(dir) : dir;
    if (n !== 1 && n !== -1) {
      throw new CommandError('BadValue', '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    }
    out[`d.${field}`] = n;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The projection less its textScore fields, and those fields' names. */
function splitProjection(projection: unknown): { rest: unknown; scoreFields: string[] } {
  if (!isDoc(projection)) return { rest: projection, scoreFields: [] };
  const rest: Doc = {};
  const scoreFields: string[] = [];
  for (const [field, v] of Object.entries(projection)) {
    if (isTextScoreMeta(v)) scoreFields.push(field);
    else rest[field] = v;
  }
  return { rest, scoreFields };
}

/** The documents of a `$text` find, sorted, paged and projected. A missing collection matches nothing. */
export function findText(coll: Collection | undefined, split: { text: Doc; rest: Doc }, q: TextFind): Doc[] {
  const search = searchString(split.text);
  const match = compileFilter(split.rest, { variables: q.variables });
  const sort = wrappedSort(q.sort);
  const { rest: projection, scoreFields } = splitProjection(q.projection);
  if (!coll) return [];
  const spec = coll.indexSpecs().find((s) => isTextKey(s.key));
  if (!spec) throw new CommandError('IndexNotFound', 'text index required for $text query');
  const query = parseSearch(search);
  const fields = textFields(spec);
  const scored: Array<{ d: Doc; s: number }> = [];
  for (const doc of coll.all()) {
    const s = scoreDocument(doc, query, fields);
    if (s !== undefined && match(doc)) scored.push({ d: doc, s });
  }
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 0;
  const page = sortDocs(scored, sort).slice(skip, limit > 0 ? skip + limit : undefined);
  const projected = projectDocs(
    page.map((p) => p.d),
    projection,
  );
  return projected.map((doc, i) => {
    if (scoreFields.length === 0) return doc;
    const out: Doc = { ...doc };
    for (const f of scoreFields) out[f] = page[i]!.s;
    return out;
  });
}
