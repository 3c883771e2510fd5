#!/usr/bin/env node
// Builds the admin page into dist/page/ (nginx serves it at /admin/, ADMIN_ROOT): page/main.ts and
// page/style.css bundled by scripts/bundle-page.mjs, referred to by relative URLs (the page lives under
// /admin/). The CLI and the API client are compiled by `tsc -b` (the root build) into dist/.
import { chmodSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePage } from '../../scripts/bundle-page.mjs';

const root = fileURLToPath(new URL('.', import.meta.url));
const out = join(root, 'dist', 'page');
const sizes = await bundlePage({ root, src: join(root, 'page'), out, href: (path) => `./${path}` });
// The CLI (`bin` chat-admin, compiled by tsc) must be executable for npx; tsc writes it without the bit.
const cli = join(root, 'dist', 'cli.js');
if (existsSync(cli)) chmodSync(cli, 0o755);
process.stdout.write(`admin page built into ${relative(process.cwd(), out) || '.'}: index.html, ${sizes.join(', ')}\n`);
