#!/usr/bin/env node
// chat-admin: the operator's view from a terminal (docs/operations.md "Operator's view"). Logs in with a
// username and password (flags or CHAT_ADMIN_* variables; or takes a token: every login spends one of the
// gateway's login budget, LOGIN_RATE_REQUESTS) as a user named in the gateways' ADMIN_USERS,
// then calls the admin API; prints tables, or the API's JSON with --json. Exit status: 0 done, 1 the API
// refused or failed (its status and code printed), 2 a usage error.
import { parseArgs } from 'node:util';
import { AdminApi, AdminApiError } from './api.js';
import {
  DEAD_LETTER_COLUMNS,
  deadLetterCells,
  GATEWAY_COLUMNS,
  gatewayCells,
  QUEUE_COLUMNS,
  queueCells,
} from './rows.js';
import { table } from './table.js';

const USAGE = `usage: chat-admin [options] <command>

commands:
  gateways               every gateway: connections, users, its queue, bound routing keys
  queues                 the deployment's queues: depth, consumers, publish/deliver rates
  dlq list [--limit N]   the first N dead letters (1..100, default 20) with their reasons
  dlq requeue <id>       republish a dead letter to the persist queue (confirmed), then remove it
  dlq discard <id>       remove a dead letter for good

options:
  --url URL              the site (nginx) or a gateway, e.g. http://localhost:8080  [CHAT_ADMIN_URL]
  --username NAME        an admin (ADMIN_USERS)                                       [CHAT_ADMIN_USERNAME]
  --password PASSWORD                                                                 [CHAT_ADMIN_PASSWORD]
  --token TOKEN          a token from POST /api/v1/sessions instead of logging in     [CHAT_ADMIN_TOKEN]
  --json                 print the API's JSON instead of a table
  -h, --help
`;

class UsageError extends Error {}

async function main(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      token: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(USAGE);
    return;
  }
  const [command, sub, id, ...rest] = positionals;
  const known =
    (command === 'gateways' || command === 'queues') && sub === undefined
      ? true
      : command === 'dlq' &&
        ((sub === 'list' && id === undefined) || ((sub === 'requeue' || sub === 'discard') && id !== undefined)) &&
        rest.length === 0;
  if (!known) throw new UsageError(command ? `unknown command: ${positionals.join(' ')}` : 'no command given');
  let limit: number | undefined;
  if (values.limit !== undefined) {
    if (!(command === 'dlq' && sub === 'list')) throw new UsageError('--limit is for dlq list');
    limit = Number(values.limit);
    if (!/^\d{1,3}$/.test(values.limit) || limit < 1 || limit > 100) throw new UsageError('--limit must be 1..100');
  }
  const url = values.url ?? env.CHAT_ADMIN_URL;
  const token = values.token ?? env.CHAT_ADMIN_TOKEN;
  const username = values.username ?? env.CHAT_ADMIN_USERNAME;
  const password = values.password ?? env.CHAT_ADMIN_PASSWORD;
  if (!url) throw new UsageError('--url (or CHAT_ADMIN_URL) is required');
  if (!token && (!username || !password))
    throw new UsageError('--username and --password (or CHAT_ADMIN_USERNAME, _PASSWORD), or --token, are required');
  const api = token ? new AdminApi(url, token) : await AdminApi.login(url, username!, password!);
  const print = (json: unknown, text: () => string) => out(values.json ? `${JSON.stringify(json, null, 2)}\n` : text());

  const upper = (columns: string[]) => columns.map((c) => c.toUpperCase());
  if (command === 'gateways') {
    const gws = await api.gateways();
    const keys = (g: (typeof gws)[number]) =>
      `${g.bound_key_count}${g.bound_keys.length > 0 ? ` (${g.bound_keys.slice(0, 5).join(' ')}${g.bound_key_count > 5 ? ' …' : ''})` : ''}`;
    print(gws, () =>
      table(
        upper([...GATEWAY_COLUMNS, 'bound keys']),
        gws.map((g) => [...gatewayCells(g), keys(g)]),
      ),
    );
  } else if (command === 'queues') {
    const q = await api.queues();
    print(
      q,
      () =>
        table(upper(QUEUE_COLUMNS), q.queues.map(queueCells)) +
        (q.truncated ? '(more queues exist than are listed)\n' : ''),
    );
  } else if (sub === 'list') {
    const d = await api.deadLetters(limit);
    print(
      d,
      () =>
        table(
          upper([...DEAD_LETTER_COLUMNS, 'bytes']),
          d.dead_letters.map((l) => [...deadLetterCells(l), l.body_bytes]),
        ) + `${d.dead_letters.length} shown of ${d.total} in the dead-letter queue\n`,
    );
  } else {
    const letter = sub === 'requeue' ? await api.requeue(id!) : await api.discard(id!);
    print(letter, () => `${sub === 'requeue' ? 'requeued' : 'discarded'} ${letter.id} (${letter.reason})\n`);
  }
}

main(process.argv.slice(2), process.env, (s) => process.stdout.write(s)).catch((err: unknown) => {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`chat-admin: ${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`chat-admin: ${err instanceof AdminApiError ? err.message : (err as Error).message}\n`);
    process.exitCode = 1;
  }
});
