// Helpers for tests against a RabbitMQ broker: where it is, unique names, cleanup, and what exists
// or is connected on a node as the node itself reports it (through rabbitmqctl, not through AMQP).
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { type CtlTarget, erlangBinary, parseJsonRows, runCli } from './internal/cli.js';

export type { CtlTarget } from './internal/cli.js';

const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** The broker integration tests use: `AMQP_URL`, or the local system node as guest. */
export function amqpUrl(): string {
  return process.env.AMQP_URL || DEFAULT_URL;
}

/**
 * A name prefix no other test (in this or another process) gets: `t<time><random>[-<label>]-`,
 * lower-case letters, digits and '-', so it is safe in exchange and queue names and in topic
 * routing keys (no '.', '*' or '#'). The trailing '-' keeps one prefix from matching another.
 */
export function uniquePrefix(label?: string): string {
  const time = Date.now().toString(36);
  const random = randomBytes(4).readUInt32BE(0).toString(36).padStart(7, '0').slice(0, 7);
  const tag = (label ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 24);
  return tag ? `t${time}${random}-${tag}-` : `t${time}${random}-`;
}

/** Names to delete; each must start with the prefix. */
export interface DeleteNames {
  queues?: readonly string[];
  exchanges?: readonly string[];
}

/** What deleteByPrefix removed (or found already gone). */
export interface DeletedNames {
  queues: string[];
  exchanges: string[];
}

/**
 * Deletes queues and exchanges whose names start with `prefix`: the ones listed in `names`, or,
 * without `names`, every one the node reports through rabbitmqctl (`target` says which node;
 * the vhost is the one in `url`). Already-deleted names are not an error. Deletion goes through
 * AMQP on `url`, one channel at a time, opening a fresh channel after any channel error.
 */
export async function deleteByPrefix(
  url: string,
  prefix: string,
  names?: DeleteNames,
  target?: CtlTarget,
): Promise<DeletedNames> {
  if (prefix.length < 3) throw new RangeError(`refusing to delete by a prefix this short: '${prefix}'`);
  const vhost = vhostOf(url);
  const queues = names ? [...(names.queues ?? [])] : await listQueues(prefix, { ...target, vhost });
  const exchanges = names ? [...(names.exchanges ?? [])] : await listExchanges(prefix, { ...target, vhost });
  for (const name of [...queues, ...exchanges]) {
    if (!name.startsWith(prefix)) throw new RangeError(`'${name}' does not start with the prefix '${prefix}'`);
  }
  if (queues.length === 0 && exchanges.length === 0) return { queues, exchanges };

  const connection = await amqp.connect(url, { clientProperties: { connection_name: `${prefix}testkit-cleanup` } });
  connection.on('error', () => {});
  try {
    let channel: amqp.Channel | undefined;
    const run = async (op: (ch: amqp.Channel) => Promise<unknown>) => {
      if (!channel) {
        channel = await connection.createChannel();
        channel.on('error', () => {});
      }
      try {
        await op(channel);
      } catch (error) {
        // A channel error (404 and friends) closes the channel: start the next delete on a new one.
        channel = undefined;
        if (!isNotFound(error)) throw error;
      }
    };
    for (const queue of queues) await run((ch) => ch.deleteQueue(queue));
    for (const exchange of exchanges) await run((ch) => ch.deleteExchange(exchange));
    if (channel) await channel.close();
  } finally {
    await connection.close();
  }
  return { queues, exchanges };
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 404;
}

function vhostOf(url: string): string {
  const path = new URL(url).pathname;
  return path.length > 1 ? decodeURIComponent(path.slice(1)) : '/';
}

/** Options of listQueues/listExchanges. */
export interface ListOptions extends CtlTarget {
  /** Default: '/'. */
  vhost?: string;
}

/** Names of the queues on the node (and vhost) that start with `prefix`, sorted. */
export async function listQueues(prefix: string, options: ListOptions = {}): Promise<string[]> {
  return listNames('list_queues', prefix, options);
}

/** Names of the exchanges on the node (and vhost) that start with `prefix`, sorted. */
export async function listExchanges(prefix: string, options: ListOptions = {}): Promise<string[]> {
  return listNames('list_exchanges', prefix, options);
}

/**
 * Messages in these queues on the node (and vhost), ready and delivered-but-unacknowledged together
 * (AMQP's queue.declare-ok counts only the ready ones: a consumer's prefetched backlog is invisible
 * there); a missing queue holds nothing.
 */
export async function queueMessages(names: readonly string[], options: ListOptions = {}): Promise<number> {
  const out = await runCli(
    'rabbitmqctl',
    ['-q', 'list_queues', '-p', options.vhost ?? '/', 'name', 'messages', '--formatter', 'json'],
    options,
  );
  const wanted = new Set(names);
  let total = 0;
  for (const row of parseJsonRows(out, 'list_queues'))
    if (typeof row.name === 'string' && wanted.has(row.name) && typeof row.messages === 'number') total += row.messages;
  return total;
}

async function listNames(command: string, prefix: string, options: ListOptions): Promise<string[]> {
  // JSON rather than the tab-separated table: names may hold tabs, and non-ASCII is escaped there.
  const out = await runCli(
    'rabbitmqctl',
    ['-q', command, '-p', options.vhost ?? '/', 'name', '--formatter', 'json'],
    options,
  );
  const rows = parseJsonRows(out, command);
  return rows
    .map((row) => row.name)
    .filter((name): name is string => typeof name === 'string' && name.startsWith(prefix))
    .sort();
}

/** Options of closeClientConnections. */
export interface CloseConnectionsOptions extends CtlTarget {
  /**
   * Close only connections whose client-provided `connection_name` starts with this (amqplib:
   * `connect(url, { clientProperties: { connection_name } })`). Default: close every client
   * connection on the node, named or not.
   */
  namePrefix?: string;
  /** Text the clients see in the CONNECTION_FORCED close. Default: 'closed by @chat/testkit'. */
  reason?: string;
}

/**
 * Force-closes AMQP client connections attached to one node, from the broker side (as
 * `rabbitmqctl close_connection` does), and resolves with how many it closed. Clients see a
 * connection.close with 320 CONNECTION_FORCED. Selecting and closing happen in one `eval` on the
 * node, so a connection cannot slip between listing and closing, and names need no parsing.
 */
export async function closeClientConnections(options: CloseConnectionsOptions = {}): Promise<number> {
  const matchAll = options.namePrefix === undefined ? 'true' : 'false';
  const code = [
    `Prefix = ${erlangBinary(options.namePrefix ?? '')},`,
    `Reason = binary_to_list(${erlangBinary(options.reason ?? 'closed by @chat/testkit')}),`,
    'Named = fun(Pid) ->',
    '  case catch rabbit_networking:connection_info(Pid, [client_properties]) of',
    '    [{client_properties, Props}] when is_list(Props) ->',
    '      case lists:keyfind(<<"connection_name">>, 1, Props) of',
    '        {_, longstr, Name} -> binary:longest_common_prefix([Name, Prefix]) =:= byte_size(Prefix);',
    '        _ -> false',
    '      end;',
    '    _ -> false',
    '  end',
    'end,',
    `Pids = [P || P <- rabbit_networking:connections_local(), ${matchAll} orelse Named(P)],`,
    '[rabbit_networking:close_connection(P, Reason) || P <- Pids],',
    'length(Pids).',
  ].join('\n');
  const out = await runCli('rabbitmqctl', ['eval', code], options);
  const count = Number.parseInt(out.trim(), 10);
  if (!Number.isInteger(count)) throw new Error(`unexpected output from rabbitmqctl eval: ${out.slice(0, 500)}`);
  return count;
}
