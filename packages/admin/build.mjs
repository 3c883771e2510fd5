#!/usr/bin/env node
// Builds the admin page into dist/page/ (nginx serves it at /admin/, ADMIN_ROOT): page/main.ts and
// page/style.css bundled and minified by esbuild under content-hashed names in dist/page/assets/, and
// page/index.html pointing at them (relative URLs: the page lives under /admin/). The CLI and the API
// client are compiled by `tsc -b` (the root build) into dist/; this script only bundles the page.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('.', import.meta.url));
const src = join(root, 'page');
const out = join(root, 'dist', 'page');

// Empty the directory rather than replace it: compose bind-mounts it into nginx.
mkdirSync(out, { recursive: true });
for (const entry of readdirSync(out)) rmSync(join(out, entry), { recursive: true, force: true });

const result = await build({
  entryPoints: { main: join(src, 'main.ts'), style: join(src, 'style.css') },
  outdir: join(out, 'assets'),
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

/** The hashed output of one entry point, relative to dist/page/. */
function outputOf(entry) {
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    if (meta.entryPoint && basename(meta.entryPoint) === entry) return relative(out, join(root, file));
  }
  throw new Error(`build.mjs: no output for ${entry}`);
}

let html = readFileSync(join(src, 'index.html'), 'utf8');
for (const [from, to] of [
  ['href="./style.css"', `href="./${outputOf('style.css')}"`],
  ['src="./main.js"', `src="./${outputOf('main.ts')}"`],
]) {
  if (!html.includes(from)) throw new Error(`build.mjs: page/index.html no longer contains ${from}`);
  html = html.replace(from, to);
}
writeFileSync(join(out, 'index.html'), html);
// The CLI (`bin` chat-admin, compiled by tsc) must be executable for npx; tsc writes it without the bit.
const cli = join(root, 'dist', 'cli.js');
if (existsSync(cli)) chmodSync(cli, 0o755);
process.stdout.write(`admin page built into ${relative(process.cwd(), out) || '.'}\n`);
