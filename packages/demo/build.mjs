#!/usr/bin/env node
// Builds the demo page into dist/: src/main.ts and src/style.css bundled and minified by esbuild
// under content-hashed names in dist/assets/ (with source maps), and src/index.html pointing at them.
// Workspace packages are bundled from their sources (the "@chat/source" condition), so no tsc build
// has to run first. Type checking is `tsc -b` (the root build); this script only bundles.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('.', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

// Empty dist/ rather than replace it: docker compose bind-mounts this directory into nginx, and a
// mount keeps pointing at a deleted directory.
mkdirSync(dist, { recursive: true });
for (const entry of readdirSync(dist)) rmSync(join(dist, entry), { recursive: true, force: true });
mkdirSync(join(dist, 'assets'));

const result = await build({
  entryPoints: { main: join(src, 'main.ts'), style: join(src, 'style.css') },
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['es2022', 'chrome111', 'firefox113', 'safari16.4'],
  conditions: ['@chat/source'],
  minify: true,
  sourcemap: true,
  metafile: true,
  absWorkingDir: root,
  logLevel: 'warning',
});

/** The hashed output of one entry point, as a path relative to dist/. */
function outputOf(entry) {
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    if (meta.entryPoint && basename(meta.entryPoint) === entry) return relative(dist, join(root, file));
  }
  throw new Error(`build.mjs: no output for ${entry}`);
}

const html = readFileSync(join(src, 'index.html'), 'utf8');
const references = [
  ['href="./style.css"', `href="/${outputOf('style.css')}"`],
  ['src="./main.js"', `src="/${outputOf('main.ts')}"`],
];
let out = html;
for (const [from, to] of references) {
  if (!out.includes(from)) throw new Error(`build.mjs: src/index.html no longer contains ${from}`);
  out = out.replace(from, to);
}
writeFileSync(join(dist, 'index.html'), out);

const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith('.map'))
  .map(([file, meta]) => `${relative(dist, join(root, file))} ${(meta.bytes / 1024).toFixed(1)} KiB`);
process.stdout.write(`demo built into ${relative(process.cwd(), dist) || '.'}: index.html, ${sizes.join(', ')}\n`);
