// MONGO.md is the stand-in's contract: it must name every command the dispatcher answers and
// every error code the stand-in can reply with, with the same number as the code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { IMPLEMENTED_COMMANDS } from '../../src/mongo/commands.js';
import { ErrorCode } from '../../src/mongo/errors.js';

const doc = readFileSync(new URL('../../MONGO.md', import.meta.url), 'utf8');

test('MONGO.md lists every implemented command', () => {
  const missing = IMPLEMENTED_COMMANDS.filter((name) => !doc.includes(`\`${name}\``));
  assert.deepEqual(missing, []);
});

test('MONGO.md lists every error code with its number', () => {
  const missing = Object.entries(ErrorCode)
    .filter(([name, code]) => !new RegExp(`\\b${name} ${code}\\b`).test(doc))
    .map(([name, code]) => `${name} ${code}`);
  assert.deepEqual(missing, []);
});
