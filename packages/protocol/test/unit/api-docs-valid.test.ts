// docs/openapi.json and docs/asyncapi.json are valid documents, as real parsers judge them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { validate } from '@readme/openapi-parser';
import { docText } from '../../scripts/api-docs.js';

describe('the generated API documents parse', () => {
  it('OpenAPI 3.1: @readme/openapi-parser finds it valid', async () => {
    const result = await validate(JSON.parse(docText('openapi.json')));
    assert.equal(result.valid, true, JSON.stringify(result));
    assert.equal(result.specification, 'OpenAPI');
  });
  it('AsyncAPI 3: @asyncapi/parser reads it without an error', async () => {
    const { document, diagnostics } = await new Parser().parse(docText('asyncapi.json'));
    const errors = diagnostics
      .filter((d) => d.severity === 0)
      .map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`);
    assert.deepEqual(errors, []);
    assert.ok(document);
    assert.equal(document.version(), '3.0.0');
  });
});
