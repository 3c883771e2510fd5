// The bounds of a search query (docs/protocol.md §6.2 `GET /search`): `q` holds 1..200 code points
// and 1..10 distinct words (protocol `searchTerms`); anything else is `invalid_request`.
import { codePoints, SEARCH_LIMITS, searchTerms } from '@chat/protocol';
import { ApiError } from './errors.js';

/** The folded words of `q`, or `invalid_request` naming the bound it breaks. */
export function checkSearch(q: string): string[] {
  const { maxQueryLength, maxTerms } = SEARCH_LIMITS;
  if (codePoints(q) > maxQueryLength)
    throw new ApiError('invalid_request', `q is longer than ${maxQueryLength} characters`);
  const terms = searchTerms(q);
  if (terms.length === 0) throw new ApiError('invalid_request', 'q must hold at least one word');
  if (terms.length > maxTerms) throw new ApiError('invalid_request', `q holds more than ${maxTerms} distinct words`);
  return terms;
}
