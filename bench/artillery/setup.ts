// Set-up step of the Artillery scenarios: creates this run's users through the HTTP API of a running
// system (POST /api/users, then POST /api/sessions for each token), the channels (W1: a DM per pair
// of users; W2: one group with every user as a member) and writes the users CSV that w1.yml / w2.yml
// read: `username,user_id,token,channel_id,sender`. Usernames carry a run id, so every run has users
// of its own on a system that keeps running. Run directly:
//   npm run -w @chat/bench artillery:setup -- w1|w2 [--users N] [--senders S] [--http URL] [--csv PATH]
// A 429 stops it with the gateway variables that raise the limits (the defaults allow 300 requests a
// minute per client address, and nginx is one address).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiCall as call, signUpAll } from '../lib/http-client.js';
import { defineScenario } from '../lib/scenario.js';
import { pool } from '../lib/users.js';

export type Scenario = 'w1' | 'w2';

export interface SetupOptions {
  scenario: Scenario;
  /** Base URL of the HTTP API (nginx of `npm start`: http://127.0.0.1:8080). */
  http: string;
  users: number;
  /** W2: how many members send (the first rows); W1: every user sends. */
  senders: number;
  csvPath: string;
  /** Requests in flight (registration and login each cost the gateway a scrypt). */
  concurrency?: number;
}

export interface SetupResult {
  runId: string;
  csvPath: string;
  users: number;
  senders: number;
  channels: string[];
  /** Wall time of the set-up. */
  ms: number;
}

export const DEFAULT_HTTP = 'http://127.0.0.1:8080';
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The CSV path the scenario's YAML reads by default. */
export function defaultCsv(scenario: Scenario): string {
  return resolve(REPO_ROOT, '.tmp/artillery', `${scenario}-users.csv`);
}

/** Creates the run's users and channels and writes the CSV. */
export async function setUp(o: SetupOptions): Promise<SetupResult> {
  if (o.scenario === 'w1' && o.users % 2 !== 0) throw new RangeError('W1 pairs users: --users must be even');
  const t0 = Date.now();
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const concurrency = o.concurrency ?? 16;
  const users = await signUpAll(
    o.http,
    Array.from({ length: o.users }, (_, n) => `a${runId}-${n}`),
    concurrency,
  );

  const channelOf: string[] = new Array(users.length);
  const channels: string[] = [];
  if (o.scenario === 'w1') {
    const pairs = Array.from({ length: users.length / 2 }, (_, i) => i);
    await pool(pairs, concurrency, async (i) => {
      const [a, b] = [users[2 * i]!, users[2 * i + 1]!];
      const dm = (await call(o.http, 'POST', '/api/channels', { kind: 'dm', recipients: [b.id] }, a.token)) as {
        id: string;
      };
      channelOf[2 * i] = dm.id;
      channelOf[2 * i + 1] = dm.id;
      channels.push(dm.id);
    });
  } else {
    const [owner, ...rest] = users;
    const group = (await call(
      o.http,
      'POST',
      '/api/channels',
      { kind: 'group', name: `w2-${runId}`, recipients: rest.slice(0, 99).map((u) => u.id) },
      owner!.token,
    )) as { id: string };
    await pool(rest.slice(99), concurrency, (u) =>
      call(o.http, 'POST', `/api/channels/${group.id}/members`, { user_id: u.id }, owner!.token),
    );
    channelOf.fill(group.id);
    channels.push(group.id);
  }

  const senders = o.scenario === 'w1' ? users.length : Math.min(o.senders, users.length);
  const rows = users.map((u, n) => [u.username, u.id, u.token, channelOf[n], n < senders ? '1' : '0'].join(','));
  mkdirSync(dirname(o.csvPath), { recursive: true });
  writeFileSync(o.csvPath, `username,user_id,token,channel_id,sender\n${rows.join('\n')}\n`);
  return { runId, csvPath: o.csvPath, users: users.length, senders, channels, ms: Date.now() - t0 };
}

/** The scenario named by the first argument (w1 or w2), taken off argv; anything else prints the usage and exits 2. */
export function takeScenarioArgument(usage: string): Scenario {
  const scenario = process.argv[2];
  if (scenario !== 'w1' && scenario !== 'w2') {
    console.error(`the first argument must be w1 or w2\nusage: ${usage}`);
    process.exit(2);
  }
  process.argv.splice(2, 1);
  return scenario;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const scenario = takeScenarioArgument('npm run -w @chat/bench artillery:setup -- w1|w2 [flags]');
  const setup = defineScenario({
    name: 'artillery:setup',
    summary: `Artillery ${scenario.toUpperCase()} set-up: this run's users and channels through the HTTP API, and the users CSV`,
    flags: {
      users: { type: 'int', default: 1000, min: 2, max: 20_000, help: 'users to register' },
      senders: { type: 'int', default: 10, min: 1, max: 20_000, help: 'W2: members that send' },
      http: { type: 'string', default: DEFAULT_HTTP, help: 'HTTP URL of the system' },
      csv: { type: 'string', default: defaultCsv(scenario), help: 'where to write the users CSV' },
    },
    saves: false,
    limitMinutes: 30,
  });
  setup.run(async () => {
    const { http, users, senders, csv } = setup.flags;
    const result = await setUp({ scenario, http, users, senders, csvPath: resolve(csv) });
    console.log(
      `${result.users} users (${result.senders} senders), ${result.channels.length} channel(s), run ${result.runId}, ` +
        `${(result.ms / 1000).toFixed(1)} s: ${result.csvPath}`,
    );
    return { code: 0 };
  });
}
