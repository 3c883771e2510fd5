import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ChatApiError, ChatRequestError, ERROR_CLASSES } from '../../src/index.js';

// packages/client/README.md lists every error with its code and retryability; this keeps both in step.
function documented(): Map<string, string> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^## Errors$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = new Map<string, string>();
  for (const m of section.matchAll(/^\|\s*`(\w+)`\s*\|\s*`?([\w<> ]+?)`?\s*\|\s*([\w, ]+?)\s*\|/gm))
    rows.set(m[1]!, `${m[2]} ${m[3]}`);
  return rows;
}

describe('error codes', () => {
  it('every error class has a unique code, and README.md lists exactly those classes with the same code and retryability', () => {
    const docs = documented();
    const codes = new Set<string>();
    const actual = new Map<string, string>();
    for (const Cls of ERROR_CLASSES) {
      const e = new Cls('x');
      assert.equal(e.name, Cls.name);
      assert.ok(!codes.has(e.code), `duplicate code ${e.code}`);
      codes.add(e.code);
      actual.set(Cls.name, `${e.code} ${e.retryable ? 'yes' : 'no'}`);
    }
    // These two carry the server's code.
    actual.set('ChatApiError', 'server code yes for 429, 502, 503, 504');
    actual.set('ChatRequestError', 'server code yes for overloaded');
    assert.deepEqual([...docs.entries()].sort(), [...actual.entries()].sort());
  });

  it('ChatApiError is retryable for 429 and 5xx gateway statuses only', () => {
    assert.equal(new ChatApiError(429, 'rate_limited', 'x', 3).retryable, true);
    assert.equal(new ChatApiError(503, 'unavailable', 'x').retryable, true);
    assert.equal(new ChatApiError(403, 'forbidden', 'x').retryable, false);
    assert.equal(new ChatRequestError('message.create', 'invalid', 'x').retryable, false);
  });
});
