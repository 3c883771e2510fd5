// The stand-in's `$text`: tokenisation and folding, the `$search` grammar, MongoDB's textScore
// formula, and find with `$text` over a collection (index required, filter, sort, projection).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Doc } from '../../src/mongo/bson-values.js';
import { CommandError } from '../../src/mongo/errors.js';
import { Collection } from '../../src/mongo/store.js';
import { findText, splitTextFilter } from '../../src/mongo/text-find.js';
import { checkTextIndexSpec, parseSearch, scoreDocument, termScores, tokenize } from '../../src/mongo/text-search.js';

const TEXT_INDEX = { key: { content: 'text' }, name: 'content_text', default_language: 'none' };

function collection(contents: string[]): Collection {
  const coll = new Collection('db', 'messages');
  coll.createIndex(TEXT_INDEX);
  contents.forEach((content, i) => {
    coll.insert({ _id: i + 1, content, channel: i % 2 === 0 ? 'a' : 'b' });
  });
  return coll;
}

function textFind(
  coll: Collection | undefined,
  filter: Doc,
  opts: { sort?: Doc; projection?: Doc; limit?: number } = {},
) {
  const split = splitTextFilter(filter);
  assert.ok(split);
  return findText(coll, split, opts);
}

const ids = (docs: Doc[]) => docs.map((d) => d._id);

test('tokens lie between the server delimiters, case-folded and without diacritics, in any script', () => {
  assert.deepEqual(tokenize("Hello, WORLD! it's 2024 — Café_crème naïve"), [
    'hello',
    'world',
    'it',
    's',
    '2024',
    'cafe_creme',
    'naive',
  ]);
  assert.deepEqual(tokenize('a+b=c x@y.com hi😀 C++ 東京、大阪'), [
    'a',
    'b',
    'c',
    'x',
    'y',
    'com',
    'hi😀',
    'c',
    '東京',
    '大阪',
  ]);
  assert.deepEqual(tokenize('Привет, МИР. 東京 x²'), ['привет', 'мир', '東京', 'x²']);
  assert.deepEqual(tokenize('  ...  '), []);
});

test('$search: terms are ORed, quoted phrases and -negations are parsed as the server parses them', () => {
  const q = parseSearch('Apple -Banana "Cherry Pie" -"sour grape" kiwi-lime');
  assert.deepEqual([...q.terms], ['apple', 'cherry', 'pie', 'kiwi', 'lime']);
  assert.deepEqual([...q.negatedTerms], ['banana']);
  assert.deepEqual(q.phrases, ['cherry pie']);
  assert.deepEqual(q.negatedPhrases, ['sour grape']);
  // A negation lasts until whitespace; an unterminated quote leaves only its terms.
  const r = parseSearch('-foo.bar "open end');
  assert.deepEqual([...r.negatedTerms], ['foo', 'bar']);
  assert.deepEqual([...r.terms], ['open', 'end']);
  assert.deepEqual(r.phrases, []);
  // A tab is not whitespace to the server's query parser: the "-" after it does not negate.
  assert.deepEqual([...parseSearch('foo\t-bar').negatedTerms], []);
  // A negation carries over a phrase's end: both phrases are negated.
  assert.deepEqual(parseSearch('x -"foo bar"-"baz quux"').negatedPhrases, ['foo bar', 'baz quux']);
});

test('textScore follows the server formula: repeated terms weigh less, a field that is the term gets 1.1', () => {
  const fields = new Map([['content', 1]]);
  const s = termScores({ content: 'hello world hello' }, fields);
  assert.equal(s.get('hello'), 1.5 * (0.5 * (2 / 3) + 0.5));
  assert.equal(s.get('world'), 1 * (0.5 * (1 / 3) + 0.5));
  assert.equal(termScores({ content: 'Hello' }, fields).get('hello'), 1.1);
  assert.equal(
    termScores({ content: 'Café' }, fields).get('cafe'),
    1,
    'no boost: the field is not the term byte for byte',
  );
  const q = parseSearch('hello world');
  assert.equal(scoreDocument({ content: 'hello world hello' }, q, fields), s.get('hello')! + s.get('world')!);
  assert.equal(scoreDocument({ content: 'goodbye' }, q, fields), undefined);
});

test('a phrase must occur as folded text, a negated term or phrase excludes the document', () => {
  const fields = new Map([['content', 1]]);
  const doc = { content: 'The CAFÉ opens at nine' };
  assert.ok(scoreDocument(doc, parseSearch('"cafe opens"'), fields) !== undefined);
  assert.equal(scoreDocument(doc, parseSearch('"opens cafe"'), fields), undefined);
  assert.equal(scoreDocument(doc, parseSearch('"cafe" "closed"'), fields), undefined);
  assert.equal(scoreDocument(doc, parseSearch('cafe -nine'), fields), undefined);
  assert.equal(scoreDocument(doc, parseSearch('cafe -"at nine"'), fields), undefined);
  assert.ok(scoreDocument(doc, parseSearch('cafe -"at ten"'), fields) !== undefined);
  // Negations alone match nothing: the server's text stage starts from the positive terms.
  assert.equal(scoreDocument(doc, parseSearch('-pizza'), fields), undefined);
});

test('find with $text applies the rest of the filter, sorts by textScore or fields, and projects the score', () => {
  const coll = collection(['red apple', 'green apple apple', 'red pear', 'apple', 'blue sky']);
  assert.deepEqual(ids(textFind(coll, { $text: { $search: 'apple pear' } }, { sort: { _id: -1 } })), [4, 3, 2, 1]);
  assert.deepEqual(ids(textFind(coll, { $text: { $search: 'apple' }, channel: 'a' }, { sort: { _id: 1 } })), [1]);
  const byScore = textFind(
    coll,
    { $text: { $search: 'apple' } },
    { sort: { score: { $meta: 'textScore' } }, projection: { score: { $meta: 'textScore' }, _id: 1 }, limit: 2 },
  );
  assert.deepEqual(byScore, [
    { _id: 2, score: 1.5 * (0.5 * (2 / 3) + 0.5) },
    { _id: 4, score: 1.1 },
  ]);
  // A projection of only the score keeps the whole document.
  const [whole] = textFind(coll, { $text: { $search: 'sky' } }, { projection: { score: { $meta: 'textScore' } } });
  assert.deepEqual(whole, { _id: 5, content: 'blue sky', channel: 'a', score: 0.75 });
  // Edits and deletes are seen: the index is the documents' current content.
  coll.replace(coll.all()[4]!, { _id: 5, content: 'grey sky', channel: 'a' });
  assert.deepEqual(ids(textFind(coll, { $text: { $search: 'blue' } })), []);
  assert.deepEqual(ids(textFind(coll, { $text: { $search: 'grey' } })), [5]);
});

test('$text without a text index fails as on the server; a missing collection matches nothing', () => {
  const coll = new Collection('db', 'plain');
  coll.insert({ _id: 1, content: 'hello' });
  assert.throws(
    () => textFind(coll, { $text: { $search: 'hello' } }),
    (e: unknown) =>
      e instanceof CommandError && e.codeName === 'IndexNotFound' && /text index required/.test(e.message),
  );
  assert.deepEqual(textFind(undefined, { $text: { $search: 'hello' } }), []);
});

test('options the stand-in does not implement are refused, not ignored', () => {
  const coll = collection(['x']);
  const refused = (filter: Doc, code: string) =>
    assert.throws(
      () => textFind(coll, filter),
      (e: unknown) => e instanceof CommandError && e.codeName === code,
    );
  refused({ $text: { $search: 'x', $language: 'english' } }, 'IllegalOperation');
  refused({ $text: { $search: 'x', $caseSensitive: true } }, 'IllegalOperation');
  refused({ $text: { $search: 'x', $diacriticSensitive: true } }, 'IllegalOperation');
  refused({ $text: { $search: 5 } }, 'BadValue');
  refused({ $text: { $search: 'x', $other: 1 } }, 'BadValue');
  const spec =
    (s: Doc, existing: Doc[] = []) =>
    () =>
      checkTextIndexSpec(s, existing);
  assert.throws(spec({ key: { content: 'text' }, name: 't' }), /default_language "none"/);
  assert.throws(spec({ key: { content: 'text', channel: 1 }, name: 't', default_language: 'none' }), /plain text/);
  assert.throws(spec({ key: { $text: 'text' }, name: 't2', default_language: 'none' }, [TEXT_INDEX]), /only one text/);
  assert.doesNotThrow(spec(TEXT_INDEX, [TEXT_INDEX]));
});
