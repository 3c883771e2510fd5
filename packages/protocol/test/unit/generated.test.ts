// The checked-in generated validators are what the schemas generate today, and stay dependency-free.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { GENERATED, validatorSource } from '../../scripts/validator-source.js';

for (const name of Object.keys(GENERATED) as Array<keyof typeof GENERATED>) {
  const file = new URL(`../../src/generated/${name}`, import.meta.url);
  describe(`src/generated/${name}`, () => {
    it('is up to date with the schemas (run `npm run -w @chat/protocol generate` when this fails)', () => {
      assert.equal(readFileSync(file, 'utf8'), validatorSource(name));
    });
    it('imports and requires nothing (the package has no runtime dependencies)', () => {
      assert.doesNotMatch(readFileSync(file, 'utf8'), /\brequire\(|^\s*import\s/m);
    });
  });
}

describe('the package', () => {
  it('has no runtime dependencies and no node: imports in its sources', async () => {
    const { readdirSync } = await import('node:fs');
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(manifest.dependencies, undefined);
    const src = new URL('../../src/', import.meta.url);
    for (const name of readdirSync(src, { recursive: true }) as string[]) {
      if (!name.endsWith('.ts')) continue;
      assert.doesNotMatch(readFileSync(new URL(name, src), 'utf8'), /from 'node:/, name);
    }
  });
});
