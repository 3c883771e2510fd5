// MongoDB's `$text` semantics for a text index with `default_language: 'none'` (textIndexVersion 3):
// tokenisation, case and diacritic folding, the `$search` string's grammar (terms, "phrases",
// -negations) and the textScore formula of the server's FTSSpec (src/mongo/db/fts/fts_spec.cpp).
// Stemming and stop words (every other language) are not implemented: such indexes are refused.

import { type Doc, getPath, isDoc } from './bson-values.js';
import { CommandError } from './errors.js';

/** Case-folded (lower case) and diacritic-free (NFD, combining marks dropped), as a v3 text index compares. */
export function foldText(s: string): string {
  return s.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');
}

/**
 * The server's delimiters (src/mongo/db/fts/unicode/gen_delimiter_list.py): code points with the Unicode
 * properties White_Space, Dash, Hyphen (listed: JavaScript has no such property), Quotation_Mark,
 * Terminal_Punctuation, Pattern_Syntax or STerm. Everything else — letters, digits, `_`, emoji — is a word.
 */
const DELIMITERS =
  /[\p{White_Space}\p{Dash}\p{Quotation_Mark}\p{Terminal_Punctuation}\p{Pattern_Syntax}\p{Sentence_Terminal}\u00AD\u058A\u1806\u2010\u2011\u2E17\u30FB\uFE63\uFF0D\uFF65]+/u;

/** The folded terms of a string: what lies between delimiters. */
export function tokenize(s: string): string[] {
  return foldText(s)
    .split(DELIMITERS)
    .filter((t) => t.length > 0);
}

/** A parsed `$search` string. */
export interface TextQuery {
  /** Folded terms a document must hold one of (the terms of positive phrases included). */
  terms: Set<string>;
  negatedTerms: Set<string>;
  /** Folded phrases a document must all contain. */
  phrases: string[];
  negatedPhrases: string[];
}

/** What the server's query parser (FTSQueryParser) counts as whitespace: these five only (not a tab). */
const QUERY_WHITESPACE = /[\n\v\f\r ]/;

/**
 * Parses `$search` as the server's FTSQueryImpl does: text runs, `-` and `"` are the tokens; a `-`
 * after whitespace (or at the start) negates until the next whitespace; `"…"` is a phrase (its terms
 * also count as terms unless the phrase is negated); an unterminated phrase leaves only its terms.
 */
export function parseSearch(search: string): TextQuery {
  const q: TextQuery = { terms: new Set(), negatedTerms: new Set(), phrases: [], negatedPhrases: [] };
  let inNegation = false;
  let inPhrase = false;
  let quoteAt = 0;
  let previousWhiteSpace = true;
  let i = 0;
  while (i < search.length) {
    const c = search[i]!;
    if (QUERY_WHITESPACE.test(c)) {
      previousWhiteSpace = true;
      i++;
      continue;
    }
    if (c === '-' || c === '"') {
      if (c === '-') {
        if (!inPhrase && previousWhiteSpace) inNegation = true;
      } else if (inPhrase) {
        const phrase = foldText(search.slice(quoteAt + 1, i));
        (inNegation ? q.negatedPhrases : q.phrases).push(phrase);
        inPhrase = false;
      } else {
        inPhrase = true;
        if (inNegation && previousWhiteSpace) inNegation = false;
        quoteAt = i;
      }
      previousWhiteSpace = false;
      i++;
      continue;
    }
    let end = i;
    while (end < search.length && !QUERY_WHITESPACE.test(search[end]!) && !'"-'.includes(search[end]!)) end++;
    const text = search.slice(i, end);
    if (!(inPhrase && inNegation)) {
      if (previousWhiteSpace) inNegation = false;
      for (const t of tokenize(text)) (inNegation ? q.negatedTerms : q.terms).add(t);
    }
    previousWhiteSpace = false;
    i = end;
  }
  return q;
}

/** The indexed fields of a text index spec and their weights (default 1). */
export function textFields(spec: Doc): Map<string, number> {
  const fields = new Map<string, number>();
  const key = spec.key as Doc;
  for (const [path, kind] of Object.entries(key)) if (kind === 'text') fields.set(path, 1);
  if (isDoc(spec.weights)) {
    for (const [path, w] of Object.entries(spec.weights)) fields.set(path, Number(w));
  }
  return fields;
}

/** True for a key pattern with a `text` field. */
export function isTextKey(key: unknown): boolean {
  return isDoc(key) && Object.values(key).includes('text');
}

/**
 * Refuses text index options the stand-in does not implement, before anything is built: any language
 * but 'none' (the server would stem and drop stop words), wildcard fields, a text field that is not
 * the only key field (compound text indexes), and a second text index (the server allows one).
 */
export function checkTextIndexSpec(spec: Doc, existing: readonly Doc[]): void {
  if (!isTextKey(spec.key)) return;
  const key = spec.key as Doc;
  if (spec.default_language !== 'none') {
    throw new CommandError(
      'IllegalOperation',
      'stand-in implements text indexes only with default_language "none" (no stemming, no stop words)',
    );
  }
  if (Object.keys(key).some((f) => f.includes('$**')) || Object.values(key).some((v) => v !== 'text')) {
    throw new CommandError('IllegalOperation', 'stand-in implements text indexes over plain text fields only');
  }
  const other = existing.find((s) => isTextKey(s.key) && s.name !== spec.name);
  if (other) {
    throw new CommandError(
      'CannotCreateIndex',
      `only one text index per collection allowed, found existing text index "${String(other.name)}"`,
    );
  }
}

/** The strings a document holds at a path (a string, or the strings of an array). */
function stringsAt(doc: Doc, path: string): string[] {
  const v = getPath(doc, path);
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** The server's test for the 1.1 boost: same UTF-8 length and equal up to ASCII case (so `Café` ≠ `cafe`). */
function isWholeField(raw: string, term: string): boolean {
  return Buffer.byteLength(raw) === Buffer.byteLength(term) && raw.replace(/[A-Z]/g, (c) => c.toLowerCase()) === term;
}

/**
 * Each term's score in a document, as the server's index holds it (FTSSpec::_scoreStringV2): per
 * field string, the k-th occurrence of a term adds 1/2^(k-1) to its frequency; the score is
 * weight × frequency × (0.5 × count/tokens + 0.5), × 1.1 when the whole string is the term (isWholeField).
 */
export function termScores(doc: Doc, fields: ReadonlyMap<string, number>): Map<string, number> {
  const scores = new Map<string, number>();
  for (const [path, weight] of fields) {
    for (const raw of stringsAt(doc, path)) {
      const tokens = tokenize(raw);
      const stats = new Map<string, { exp: number; count: number; freq: number }>();
      for (const t of tokens) {
        const s = stats.get(t) ?? { exp: 0, count: 0, freq: 0 };
        s.exp = s.exp === 0 ? 1 : s.exp * 2;
        s.count += 1;
        s.freq += 1 / s.exp;
        stats.set(t, s);
      }
      for (const [term, s] of stats) {
        const coeff = (0.5 * s.count) / tokens.length + 0.5;
        const adjustment = isWholeField(raw, term) ? 1.1 : 1;
        scores.set(term, (scores.get(term) ?? 0) + weight * s.freq * coeff * adjustment);
      }
    }
  }
  return scores;
}

/**
 * The document's textScore for the query, or undefined when it does not match: it must hold a
 * positive term, no negated term, every phrase and no negated phrase (phrases are folded substrings
 * of a field, as the server's phrase matcher compares). The score sums the positive terms' scores.
 */
export function scoreDocument(doc: Doc, q: TextQuery, fields: ReadonlyMap<string, number>): number | undefined {
  const scores = termScores(doc, fields);
  let score = 0;
  let matched = false;
  for (const t of q.terms) {
    const s = scores.get(t);
    if (s !== undefined) {
      score += s;
      matched = true;
    }
  }
  if (!matched) return undefined;
  for (const t of q.negatedTerms) if (scores.has(t)) return undefined;
  if (q.phrases.length > 0 || q.negatedPhrases.length > 0) {
    const texts = [...fields.keys()].flatMap((p) => stringsAt(doc, p)).map(foldText);
    const contains = (phrase: string) => texts.some((t) => t.includes(phrase));
    if (!q.phrases.every(contains) || q.negatedPhrases.some(contains)) return undefined;
  }
  return score;
}
