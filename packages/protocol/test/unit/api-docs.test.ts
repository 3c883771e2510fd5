// docs/openapi.json and docs/asyncapi.json are what the schemas generate today.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { API_DOCS, docText } from '../../scripts/api-docs.js';
import { HTTP_ROUTES, REQUEST_METHODS } from '../../src/index.js';

for (const name of Object.keys(API_DOCS) as Array<keyof typeof API_DOCS>) {
  describe(`docs/${name}`, () => {
    it('is up to date with the schemas (run `npm run -w @chat/protocol generate-docs` when this fails)', () => {
      assert.equal(readFileSync(new URL(`../../../../docs/${name}`, import.meta.url), 'utf8'), docText(name));
    });
  });
}

describe('what the documents cover', () => {
  it('the OpenAPI document has every route of the table, with its body and success status', () => {
    const doc = JSON.parse(docText('openapi.json')) as {
      paths: Record<string, Record<string, { responses: object; requestBody?: object }>>;
    };
    for (const r of HTTP_ROUTES) {
      const op = doc.paths[r.path]?.[r.method];
      assert.ok(op, `${r.method} ${r.path}`);
      assert.ok(String(r.status) in op.responses);
      assert.equal(op.requestBody !== undefined, r.body !== undefined);
    }
  });
  it('the AsyncAPI document has a message for every REQUEST method and both AMQP channels', () => {
    const doc = JSON.parse(docText('asyncapi.json')) as { channels: Record<string, { messages: object }> };
    for (const method of Object.keys(REQUEST_METHODS))
      assert.ok(`Request_${method.replace('.', '_')}` in doc.channels.gateway!.messages, method);
    assert.ok(doc.channels.persist && doc.channels.route);
  });
});
