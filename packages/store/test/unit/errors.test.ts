import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CLASSES } from '@chat/store';

describe('store error codes', () => {
  it('README.md lists exactly the error codes the store throws, with the same retryability', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split(/^## Errors$/m)[1]?.split(/^## /m)[0] ?? '';
    const docs = new Map<string, boolean>();
    for (const m of section.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*`(\w+)`\s*\|\s*(yes|no)\s*\|/gm))
      docs.set(m[1]!, m[3] === 'yes');
    const codes = new Map(ERROR_CLASSES.map((C) => [new C('x').code, new C('x').retryable] as const));
    assert.deepEqual([...docs.keys()].sort(), [...codes.keys()].sort());
    for (const [code, retryable] of codes) assert.equal(docs.get(code), retryable, code);
  });
});
