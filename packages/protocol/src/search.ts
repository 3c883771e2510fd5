// Full-text search over the caller's channels (docs/protocol.md §6.2 `GET /search`, REQUEST
// `message.search`): the query's params, its bounds and its words. A message matches when its content
// holds every word of `q`; results are newest first, and `before` (the last id of a page) pages on.
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
 * What separates words, as MongoDB's text index splits text (src/mongo/db/fts/unicode/gen_delimiter_list.py):
 * the Unicode properties White_Space, Dash, Hyphen, Quotation_Mark, Terminal_Punctuation, Pattern_Syntax and
 * STerm. Everything else is part of a word: letters, digits, marks, `_`, emoji.
 */
export const SEARCH_DELIMITER =
  /[\p{White_Space}\p{Dash}\p{Quotation_Mark}\p{Terminal_Punctuation}\p{Pattern_Syntax}\p{Sentence_Terminal}\u00AD\u058A\u1806\u2010\u2011\u2E17\u30FB\uFE63\uFF0D\uFF65]/u;
const DELIMITERS = new RegExp(`${SEARCH_DELIMITER.source}+`, 'u');

/**
 * The words of a search query, as MongoDB's text index (language "none") makes them: split at
 * SEARCH_DELIMITER, lower-cased, diacritics removed (NFD, combining marks dropped); duplicates once, in
 * order of first appearance. A word never holds a quote or a dash (both are delimiters).
 */
export function searchTerms(q: string): string[] {
  const folded = q.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');
  return [...new Set(folded.split(DELIMITERS).filter((t) => t.length > 0))];
}
