// defineScenario's parts, in process: the flags with defaults, bounds, help and --quick overrides
// (parseScenario), and the run's frame (runScenario: command line, time limit, failures, saving).
// The process glue (exit codes of --help and of a usage error) is bench/test/e2e/scenario-cli.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  BenchFailure,
  type FlagDefs,
  helpText,
  parseScenario,
  runScenario,
  type ScenarioSpec,
} from '../../lib/scenario.js';

const spec = {
  name: 'demo',
  summary: 'a demo scenario',
  limitMinutes: 1,
  flags: {
    rates: { type: 'ints', default: [10, 50, 100], min: 1, max: 1000, help: 'messages/s per step' },
    users: { type: 'int', default: 1000, min: 3, max: 10_000, help: 'users' },
    knee: { type: 'int', min: 10, max: 100_000, help: 'the knee' },
    topology: { type: 'choice', choices: ['single', 'cluster'], default: 'cluster', help: 'where' },
    'skip-max': { type: 'boolean', help: 'skip the max step' },
    env: { type: 'string', multiple: true, help: 'K=V' },
    json: { type: 'string', help: 'path' },
  },
  quick: { rates: [10], users: 60, topology: 'single' },
} satisfies ScenarioSpec<FlagDefs>;

function ok(argv: string[]) {
  const out = parseScenario(spec, argv);
  assert.equal(out.kind, 'ok', JSON.stringify(out));
  return out as Extract<typeof out, { kind: 'ok' }>;
}

function error(argv: string[]): string {
  const out = parseScenario(spec, argv);
  assert.equal(out.kind, 'error', JSON.stringify(out));
  return (out as { message: string }).message;
}

test('defaults apply to flags not given, and a full run saves', () => {
  const o = ok([]);
  assert.deepEqual(o.flags, {
    rates: [10, 50, 100],
    users: 1000,
    knee: undefined,
    topology: 'cluster',
    'skip-max': false,
    env: [],
    json: undefined,
  });
  assert.equal(o.quick, false);
  assert.equal(o.save, true);
});

test('given values are parsed: integer lists, choices, repeated strings', () => {
  const o = ok([
    '--rates',
    '5,7',
    '--knee',
    '400',
    '--topology',
    'single',
    '--env',
    'A=1',
    '--env',
    'B=2',
    '--skip-max',
  ]);
  assert.deepEqual(o.flags.rates, [5, 7]);
  assert.equal(o.flags.knee, 400);
  assert.equal(o.flags.topology, 'single');
  assert.deepEqual(o.flags.env, ['A=1', 'B=2']);
  assert.equal(o.flags['skip-max'], true);
});

test('--quick uses its overrides for flags not given, and does not save unless --save', () => {
  const q = ok(['--quick']);
  assert.deepEqual(q.flags.rates, [10]);
  assert.equal(q.flags.users, 60);
  assert.equal(q.flags.topology, 'single');
  assert.equal(q.quick, true);
  assert.equal(q.save, false);
  const given = ok(['--quick', '--users', '200', '--save']);
  assert.equal(given.flags.users, 200, 'a flag on the command line wins over the quick value');
  assert.equal(given.save, true);
  assert.equal(ok(['--no-save']).save, false);
});

test('an unknown flag, a positional argument and a flag without its value are errors', () => {
  assert.match(error(['--nope']), /Unknown option '--nope'/);
  assert.match(error(['extra']), /positional/);
  assert.match(error(['--users']), /argument missing/);
});

test('count limits: values outside [min, max] or not integers are refused, naming the flag', () => {
  assert.match(error(['--users', '2']), /--users must be an integer in 3\.\.10000, got '2'/);
  assert.match(error(['--users', '10001']), /--users must be an integer in 3\.\.10000/);
  assert.match(error(['--users', '1.5']), /--users must be an integer/);
  assert.match(error(['--rates', '10,0']), /--rates must be integers in 1\.\.1000, got '0'/);
  assert.match(error(['--rates', '10,,20']), /--rates must be integers/);
  assert.match(error(['--topology', 'mesh']), /--topology must be one of single, cluster, got 'mesh'/);
});

test('--help lists every flag with its help, default, quick value and bounds', () => {
  const out = parseScenario(spec, ['--help']);
  assert.equal(out.kind, 'help');
  const text = helpText(spec);
  assert.equal((out as { text: string }).text, text);
  assert.match(text, /^a demo scenario\nusage: npm run -w @chat\/bench demo -- \[--rates N,N…\]/);
  assert.match(text, /--rates N,N… +messages\/s per step \(default 10,50,100; --quick 10; 1\.\.1000\)/);
  assert.match(text, /--topology single\|cluster +where \(default cluster; --quick single\)/);
  for (const flag of ['--users', '--knee', '--skip-max', '--env', '--json', '--quick', '--save', '--no-save']) {
    assert.ok(text.includes(flag), `${flag} in the help`);
  }
});

test('a scenario without quick values or results has no --quick, --save, --no-save', () => {
  const bare = {
    name: 'bare',
    summary: 'bare',
    limitMinutes: 1,
    saves: false,
    flags: {},
  } satisfies ScenarioSpec<FlagDefs>;
  assert.match((parseScenario(bare, ['--quick']) as { message: string }).message, /Unknown option '--quick'/);
  assert.match((parseScenario(bare, ['--save']) as { message: string }).message, /Unknown option '--save'/);
  const o = parseScenario(bare, []);
  assert.ok(o.kind === 'ok' && o.save === false);
});

// ---- runScenario: the run's frame (limit, failures, saving), in process ----------------------------

function recorder() {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    out: { log: (l: string) => lines.push(l), error: (e: unknown) => errors.push(String(e)) },
  };
}

const results = {
  title: 'Fixture',
  description: 'Nothing measured.',
  system: 'System: test',
  params: { count: 7 },
  tables: [{ markdown: '| a |\n|---|\n| 1 |' }],
  notes: ['a note'],
  data: { count: 7 },
};

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('run: prints the command, hands the body its options, and resolves with its code', async () => {
  const r = recorder();
  const options = ok(['--quick']);
  let seen: unknown;
  const code = await runScenario(
    spec,
    options,
    async (ctx) => {
      seen = { name: ctx.name, users: ctx.flags.users, quick: ctx.quick, command: ctx.command };
      return { code: 4 };
    },
    r.out,
    'npm run -w @chat/bench demo -- --quick',
  );
  assert.equal(code, 4);
  assert.deepEqual(seen, { name: 'demo', users: 60, quick: true, command: 'npm run -w @chat/bench demo -- --quick' });
  assert.deepEqual(r.lines, ['Command: npm run -w @chat/bench demo -- --quick']);
});

test('run: the time limit ends a run that does not finish (code 3)', async () => {
  const r = recorder();
  const code = await runScenario(
    { ...spec, limitMinutes: () => 0.1 / 60_000 },
    ok([]),
    () => new Promise(() => {}),
    r.out,
    'cmd',
  );
  assert.equal(code, 3);
  assert.match(r.errors.join('\n'), /demo: the run exceeded its time limit of 0\.00 min; giving up/);
});

test('run: the time limit comes from the flags when it is a function', async () => {
  let asked: unknown;
  await runScenario(
    {
      ...spec,
      limitMinutes: (o) => {
        asked = o.flags.users;
        return 1;
      },
    },
    ok(['--users', '77']),
    async () => ({ code: 0 }),
    recorder().out,
    'cmd',
  );
  assert.equal(asked, 77);
});

test('run: a throw is code 1; a BenchFailure prints FAILED and its message; nothing is saved', async () => {
  await withDir(async (dir) => {
    const r = recorder();
    const failing = { ...spec, resultsDir: dir };
    assert.equal(
      await runScenario(
        failing,
        ok(['--save']),
        async () => {
          throw new BenchFailure('probe lost');
        },
        r.out,
        'cmd',
      ),
      1,
    );
    assert.equal(
      await runScenario(
        failing,
        ok(['--save']),
        async () => {
          throw new Error('boom');
        },
        r.out,
        'cmd',
      ),
      1,
    );
    assert.equal(r.errors[0], 'FAILED: probe lost');
    assert.match(r.errors[1]!, /Error: boom/);
    assert.deepEqual(readdirSync(dir), []);
  });
});

test('run: results are saved as <name>.md and <name>-<time>.json only when the options say save', async () => {
  await withDir(async (dir) => {
    const inDir = { ...spec, resultsDir: dir };
    const r = recorder();
    assert.equal(await runScenario(inDir, ok(['--quick']), async () => ({ code: 0, results }), r.out, 'q'), 0);
    assert.equal(await runScenario(inDir, ok(['--no-save']), async () => ({ code: 0, results }), r.out, 'n'), 0);
    assert.deepEqual(readdirSync(dir), [], 'a quick run and --no-save save nothing');

    const cmd = 'npm run -w @chat/bench demo -- --users 7';
    assert.equal(await runScenario(inDir, ok(['--users', '7']), async () => ({ code: 1, results }), r.out, cmd), 1);
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 2);
    assert.equal(files[1], 'demo.md');
    assert.match(files[0]!, /^demo-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.json$/);
    const json = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8'));
    assert.equal(json.scenario, 'demo');
    assert.equal(json.command, cmd);
    assert.equal(json.system, 'System: test');
    assert.deepEqual(json.params, { count: 7 });
    assert.deepEqual(json.data, { count: 7 });
    assert.deepEqual(json.notes, ['a note']);
    const md = readFileSync(join(dir, 'demo.md'), 'utf8');
    assert.match(md, /^# Fixture\n\nNothing measured\.\n/);
    assert.ok(md.includes(`\`\`\`sh\n${cmd}\n\`\`\``));
    assert.match(md, /\| a \|\n\|---\|\n\| 1 \|\n\n- a note\n/);
    assert.equal(r.lines.at(-1), `saved ${join(dir, files[0]!)}\n      ${join(dir, 'demo.md')}`);
  });
});

test('run: results may name their own file stem', async () => {
  await withDir(async (dir) => {
    const outcome = { code: 0, results: { ...results, scenario: 'demo-w2' } };
    await runScenario({ ...spec, resultsDir: dir }, ok([]), async () => outcome, recorder().out, 'cmd');
    assert.ok(readdirSync(dir).includes('demo-w2.md'));
  });
});
