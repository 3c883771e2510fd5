// Generates src/generated/*.ts: standalone ajv validator code for every schema of
// src/schemas.ts, so the published package runs them with no dependency. Run `npm run -w @chat/protocol
// generate` after changing a schema; test/unit/generated.test.ts fails while the checked-in file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GENERATED, validatorSource } from './validator-source.js';

for (const file of Object.keys(GENERATED) as Array<keyof typeof GENERATED>) {
  const out = fileURLToPath(new URL(`../src/generated/${file}`, import.meta.url));
  writeFileSync(out, validatorSource(file));
  process.stdout.write(`wrote ${out}\n`);
}
