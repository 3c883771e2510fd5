import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CLASSES } from '@chat/router';

// packages/router/README.md lists every error code with its retryability; this keeps both in step.
function documentedCodes(): Map<string, boolean> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^## Errors$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = new Map<string, boolean>();
  for (const m of section.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*`(\w+)`\s*\|\s*(yes|no)\s*\|/gm))
    rows.set(m[1]!, m[3] === 'yes');
  return rows;
}

describe('error codes', () => {
  it('every error class has a unique code, and README.md lists exactly those codes with the same retryability', () => {
    const docs = documentedCodes();
    const codes = new Map<string, boolean>();
    for (const Cls of ERROR_CLASSES) {
      const e = new Cls('x');
      assert.equal(e.name, Cls.name);
      assert.ok(!codes.has(e.code), `duplicate code ${e.code}`);
      codes.set(e.code, e.retryable);
    }
    assert.deepEqual([...docs.keys()].sort(), [...codes.keys()].sort());
    for (const [code, retryable] of codes) assert.equal(docs.get(code), retryable, `${code} retryable`);
  });
});
