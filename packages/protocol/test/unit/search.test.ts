// The search query's words (protocol `searchTerms`) and its params schema.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestParams, SEARCH_LIMITS, searchTerms } from '../../src/index.js';

test('the words of a query are split at MongoDB text delimiters, folded, each once in order of appearance', () => {
  assert.deepEqual(searchTerms('Café, CAFE and naïve-ly v2.0!'), ['cafe', 'and', 'naive', 'ly', 'v2', '0']);
  assert.deepEqual(searchTerms('Привет 東京、大阪 𝒜𝒜'), ['привет', '東京', '大阪', '𝒜𝒜']);
  assert.deepEqual(searchTerms('snake_case hi😀 C++ a@b.c'), ['snake_case', 'hi😀', 'c', 'a', 'b']);
  assert.deepEqual(searchTerms(' "quoted" -negated '), ['quoted', 'negated'], 'no search syntax survives');
  assert.deepEqual(searchTerms('!?… '), []);
});

test('message.search params: q required, the rest optional or null, unknown fields refused', () => {
  const v = requestParams['message.search'];
  assert.ok(v.is({ q: 'x' }));
  assert.ok(v.is({ q: 'x', channel_id: null, before: '12', limit: SEARCH_LIMITS.limit.max }));
  assert.deepEqual(v.failure({}), { kind: 'missing', field: 'q' });
  assert.deepEqual(v.failure({ q: 'x', before: '01' }), { kind: 'invalid', field: 'before' });
  assert.deepEqual(v.failure({ q: 'x', sort: 'score' }), { kind: 'unknown_field', field: 'sort' });
});
