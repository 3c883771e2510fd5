// Full-text search over the caller's channels (docs/protocol.md §6.2 `GET /search`, REQUEST
// `message.search`): the query's params, its bounds and its terms. A message matches when its content
// holds every term of `q`; results are newest first, and `before` (the last id of a page) pages on.
import type { Infer } from './infer.js';
import { Snowflake } from './snowflake.js';

const optional = <const S extends object>(s: S) => ({ anyOf: [s, { type: 'null' }] }) as const;

/** Bounds of a search: `q` length in code points, its terms (distinct words), and the page size. */
export const SEARCH_LIMITS = {
  maxQueryLength: 200,
  maxTerms: 10,
  limit: { default: 25, min: 1, max: 50 },
} as const;

export const SearchParams = {
  type: 'object',
  properties: {
    /** 1..200 code points holding 1..10 distinct words (the service checks the bounds: invalid_request). */
    q: { type: 'string' },
    /** Only this channel (one the caller is a member of); absent: every channel of the caller. */
    channel_id: optional(Snowflake),
    /** Only messages older than this id: the last id of the previous page. */
    before: optional(Snowflake),
    /** 1..50, default 25 (the range is the service's check). */
    limit: optional({ type: 'integer' }),
  },
  required: ['q'],
  additionalProperties: false,
} as const;
/** Params of REQUEST `message.search`; the query parameters of `GET /api/search`. */
export type SearchParams = Infer<typeof SearchParams>;

/**
 * The words of a search query, as MongoDB's text index (language "none") splits and folds text: runs of
 * Unicode letters and digits, lower-cased, diacritics removed (NFD, combining marks dropped); duplicates
 * once, in order of first appearance.
 */
export function searchTerms(q: string): string[] {
  const folded = q.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');
  return [...new Set(folded.split(/[^\p{L}\p{N}]+/u).filter((t) => t.length > 0))];
}
