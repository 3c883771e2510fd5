#!/usr/bin/env node
// Runs one test tier with node:test: every packages/*/test/<tier>/**/*.test.ts and bench/test/<tier>/**/*.test.ts file, TypeScript
// through tsx, workspace packages resolved to their sources (the "@chat/source" export condition).
// Integration tests share one broker and start their own nodes, so files run one at a time.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const tier = process.argv[2];
if (tier !== 'unit' && tier !== 'integration' && tier !== 'e2e') {
  console.error('usage: run-tests.mjs unit|integration|e2e [filter]');
  process.exit(2);
}
const filter = process.argv[3];

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = [];
const roots = [...readdirSync('packages').map((pkg) => join('packages', pkg)), 'bench'];
for (const root of roots) {
  const dir = join(root, 'test', tier);
  if (existsSync(dir)) files.push(...walk(dir));
}
const selected = files.filter((f) => !filter || f.includes(filter)).sort();
if (selected.length === 0) {
  console.error(`no ${tier} test files found${filter ? ` matching ${filter}` : ''}`);
  process.exit(1);
}

// The whole-system fault runs (packages/chaos e2e: a 3-node cluster and every service booted, a minute
// of faults, a settle period) need more than the 5 minutes other files get: they run on their own.
const isLong = (f) => tier === 'e2e' && f.startsWith(join('packages', 'chaos'));
const groups = [
  [selected.filter((f) => !isLong(f)), tier === 'unit' ? 30_000 : 300_000],
  [selected.filter(isLong), 1_200_000],
];
let status = 0;
for (const [files, timeoutMs] of groups) {
  if (files.length === 0) continue;
  const args = [
    '--conditions=@chat/source',
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${tier === 'unit' ? 2 : 1}`,
    `--test-timeout=${timeoutMs}`,
    ...files,
  ];
  const res = spawnSync(process.execPath, args, { stdio: 'inherit' });
  status ||= res.status ?? 1;
}
process.exit(status);
