// Bundles one static page (the demo, the admin page): `main.ts` and `style.css` of `src` bundled and
// minified by esbuild under content-hashed names in `<out>/assets/` (with source maps), and `index.html`
// written to `out` pointing at them. Workspace packages are bundled from their sources (the
// "@chat/source" condition), so no tsc build has to run first; type checking is `tsc -b`.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { build } from 'esbuild';

/**
 * `root`: the package (esbuild's working directory); `src`: where index.html, main.ts and style.css are;
 * `out`: emptied (not replaced: compose bind-mounts it into nginx) and filled; `href(path)`: how the page
 * refers to a file of `out` (e.g. `/assets/…` at the site's root, `./assets/…` under a path).
 * Resolves with the outputs and their sizes, for the caller's one-line report.
 */
export async function bundlePage({ root, src, out, href }) {
  mkdirSync(out, { recursive: true });
  for (const entry of readdirSync(out)) rmSync(join(out, entry), { recursive: true, force: true });
  mkdirSync(join(out, 'assets'));
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
  /** The hashed output of one entry point, as a path relative to `out`. */
  const outputOf = (entry) => {
    for (const [file, meta] of Object.entries(result.metafile.outputs)) {
      if (meta.entryPoint && basename(meta.entryPoint) === entry) return relative(out, join(root, file));
    }
    throw new Error(`bundle-page: no output for ${entry}`);
  };
  let html = readFileSync(join(src, 'index.html'), 'utf8');
  for (const [from, to] of [
    ['href="./style.css"', `href="${href(outputOf('style.css'))}"`],
    ['src="./main.js"', `src="${href(outputOf('main.ts'))}"`],
  ]) {
    if (!html.includes(from)) throw new Error(`bundle-page: ${join(src, 'index.html')} no longer contains ${from}`);
    html = html.replace(from, to);
  }
  writeFileSync(join(out, 'index.html'), html);
  return Object.entries(result.metafile.outputs)
    .filter(([file]) => !file.endsWith('.map'))
    .map(([file, meta]) => `${relative(out, join(root, file))} ${(meta.bytes / 1024).toFixed(1)} KiB`);
}
