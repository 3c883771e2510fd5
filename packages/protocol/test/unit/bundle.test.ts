// A browser bundle keeps only the generated validators it uses: the SDK parses server frames and must not
// carry the validators of client input or of AMQP envelopes (tens of KiB of generated code).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

async function bundledInputs(contents: string): Promise<Record<string, number>> {
  const result = await build({
    stdin: { contents, resolveDir: fileURLToPath(new URL('../../', import.meta.url)), loader: 'ts' },
    bundle: true,
    write: false,
    metafile: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['@chat/source'],
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs)[0]!;
  return Object.fromEntries(Object.entries(output.inputs).map(([file, m]) => [file, m.bytesInOutput]));
}

describe('tree-shaking', () => {
  it('a client that parses server frames bundles neither the client-input nor the envelope validators', async () => {
    const inputs = await bundledInputs(
      "import { parseServerFrame, slotOf } from './src/index.ts'; console.log(parseServerFrame('{}'), slotOf('a'));",
    );
    const size = (suffix: string) => Object.entries(inputs).find(([f]) => f.endsWith(suffix))?.[1] ?? 0;
    assert.equal(size('generated/client-input.ts'), 0);
    assert.ok(size('generated/service.ts') > 0, 'the server-frame validator is there');
    assert.ok(
      size('generated/service.ts') < 8_000,
      `only the server-frame validator: ${size('generated/service.ts')} bytes`,
    );
  });
});
