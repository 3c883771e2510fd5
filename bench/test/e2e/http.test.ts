// CI smoke of `npm run -w @chat/bench http -- --quick`: the autocannon benchmark of the HTTP API
// starts its own system behind nginx, and every endpoint answers every request with success, and
// each history connection walks page by page to the oldest seeded message across the buckets.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { runBench } from './run-bench.js';

interface HttpData {
  seeded: { messages: number; buckets: number };
  walk: { pages: number; walks: number; deepest: number; buckets: number };
  runs: Array<{ endpoint: string; connections: number; requests: number; statusCodes: Record<string, number> }>;
}

it('http --quick: login, history and send all succeed, and history walks back through every bucket', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'bench-http-')), 'http.json');
  const { code, output } = await runBench(['http', '--', '--quick', '--json-out', out], 240_000);
  assert.equal(code, 0, output.slice(-3000));
  assert.match(output, /^System: /m);
  const data = JSON.parse(readFileSync(out, 'utf8')) as HttpData;
  const expected = { login: '200', history: '200', send: '201' } as const;
  assert.deepEqual(data.runs.map((r) => r.endpoint).sort(), Object.keys(expected).sort());
  for (const run of data.runs) {
    const ok = expected[run.endpoint as keyof typeof expected];
    assert.deepEqual(Object.keys(run.statusCodes), [ok], `${run.endpoint}: ${JSON.stringify(run.statusCodes)}`);
    assert.equal(run.statusCodes[ok], run.requests, `${run.endpoint}: every request answered`);
  }
  const pagesPerWalk = Math.ceil(data.seeded.messages / 50) + 1;
  const history = data.runs.find((r) => r.endpoint === 'history')!;
  assert.equal(history.requests, history.connections * pagesPerWalk);
  assert.equal(data.walk.walks, history.connections, 'each connection walked to the oldest message');
  assert.equal(data.walk.deepest, pagesPerWalk);
  assert.ok(data.seeded.buckets >= 5, `the seeded history spans ${data.seeded.buckets} buckets`);
  assert.equal(data.walk.buckets, data.seeded.buckets, 'the pages reached every bucket');
});
