// CI smoke of the Artillery scenarios: the system behind nginx (bench/lib/http-stack.ts, started as
// `npm start` would with raised abuse limits), then `artillery:w1 -- --quick` and
// `artillery:w2 -- --quick` against it (20 users). Artillery's --output JSON must carry the
// processor's custom histograms and counters, with counts matching the messages sent: every message
// acked once, every acked message received by each of its recipients.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type HttpStack, startHttpStack } from '../../lib/http-stack.js';
import { runBench } from './run-bench.js';

interface Aggregate {
  counters: Record<string, number>;
  summaries: Record<string, { count: number; p50: number; p99: number }>;
}

describe('artillery --quick against nginx', () => {
  let stack: HttpStack;
  const dir = mkdtempSync(join(tmpdir(), 'bench-artillery-'));
  before(async () => {
    stack = await startHttpStack({ label: 'artillery-smoke' });
  });
  /** The channels the set-up steps created (column 4 of their CSVs): their Redis cache keys go too. */
  const channels = () =>
    (['w1', 'w2'] as const).flatMap((s) => {
      const csv = join(dir, `${s}.csv`);
      return existsSync(csv)
        ? readFileSync(csv, 'utf8')
            .trim()
            .split('\n')
            .slice(1)
            .map((row) => row.split(',')[3]!)
        : [];
    });
  after(async () => stack?.close([...new Set(channels())]));

  async function run(scenario: 'w1' | 'w2'): Promise<Aggregate> {
    const { code, output } = await runBench(
      [
        `artillery:${scenario}`,
        '--',
        '--quick',
        '--ws',
        stack.ws,
        '--http',
        stack.http,
        '--csv',
        join(dir, `${scenario}.csv`),
      ],
      240_000,
    );
    assert.equal(code, 0, output.slice(-4000));
    assert.match(output, /^System: /m);
    const file = /Artillery output: (\S+\.json)/.exec(output)?.[1];
    assert.ok(file, `no Artillery output file named in:\n${output.slice(-2000)}`);
    return (JSON.parse(readFileSync(file, 'utf8')) as { aggregate: Aggregate }).aggregate;
  }

  function check(agg: Aggregate, users: number, sent: number, recipients: number): void {
    const c = agg.counters;
    assert.equal(c['chat.identified'], users, JSON.stringify(c));
    assert.equal(c['chat.sent'], sent, JSON.stringify(c));
    assert.equal(c['chat.acked'], sent, 'every message acked');
    assert.equal(c['chat.refused.overloaded'] ?? 0, 0);
    assert.equal(c['chat.refused.other'] ?? 0, 0);
    assert.equal(c['chat.received'], sent * recipients, 'every recipient received every message');
    assert.equal(agg.summaries['chat.ack']?.count, sent, 'one ack latency per acked message');
    assert.equal(agg.summaries['chat.send_to_receive']?.count, sent * recipients, 'one latency per copy received');
    assert.equal(c['vusers.failed'] ?? 0, 0);
  }

  it('W1: 20 users in 10 DMs send 3 messages each; each reaches its one recipient', async () => {
    check(await run('w1'), 20, 60, 1);
  });

  it('W2: 2 of 20 group members send 6 messages each; each reaches the 19 other members', async () => {
    check(await run('w2'), 20, 12, 19);
  });
});
