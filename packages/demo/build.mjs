#!/usr/bin/env node
// Builds the demo page into dist/: src/main.ts and src/style.css bundled and minified by esbuild under
// content-hashed names in dist/assets/ (with source maps), and src/index.html pointing at them
// (scripts/bundle-page.mjs). Type checking is `tsc -b` (the root build); this script only bundles.
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePage } from '../../scripts/bundle-page.mjs';

const root = fileURLToPath(new URL('.', import.meta.url));
const dist = join(root, 'dist');
const sizes = await bundlePage({ root, src: join(root, 'src'), out: dist, href: (path) => `/${path}` });
process.stdout.write(`demo built into ${relative(process.cwd(), dist) || '.'}: index.html, ${sizes.join(', ')}\n`);
