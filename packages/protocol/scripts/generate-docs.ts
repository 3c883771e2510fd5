// Writes docs/openapi.json and docs/asyncapi.json from the schemas (scripts/api-docs.ts). Run
// `npm run -w @chat/protocol generate-docs` after changing a schema or a route.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { API_DOCS, docText } from './api-docs.js';

for (const name of Object.keys(API_DOCS) as Array<keyof typeof API_DOCS>) {
  const out = fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url));
  writeFileSync(out, docText(name));
  process.stdout.write(`wrote ${out}\n`);
}
