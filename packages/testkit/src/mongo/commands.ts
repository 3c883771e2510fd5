// The command table and dispatcher: picks the handler by the command's first field, turns
// thrown CommandErrors into `{ok: 0, errmsg, code, codeName}` replies, and answers anything
// it does not know with CommandNotFound (59) naming the command.

import type { Doc } from './bson-values.js';
import type { CommandContext, CommandHandler } from './command-context.js';
import {
  create,
  createIndexes,
  drop,
  dropDatabase,
  dropIndexes,
  listCollections,
  listDatabases,
  listIndexes,
} from './commands-catalog.js';
import { aggregate, count, distinct, find, getMore, killCursors } from './commands-read.js';
import { buildInfo, endSessions, getParameter, hello, hostInfo, isMaster, ping } from './commands-server.js';
import { findAndModify, insert, remove, update } from './commands-write.js';
import { CommandError, ErrorCode, toCommandError } from './errors.js';

const HANDLERS: Record<string, CommandHandler> = {
  hello,
  isMaster,
  ismaster: isMaster,
  ping,
  buildInfo,
  buildinfo: buildInfo,
  hostInfo,
  getParameter,
  endSessions,
  find,
  getMore,
  killCursors,
  count,
  distinct,
  aggregate,
  insert,
  update,
  delete: remove,
  findAndModify,
  findandmodify: findAndModify,
  create,
  drop,
  dropDatabase,
  listDatabases,
  listCollections,
  createIndexes,
  listIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
};

/** Names the dispatcher answers; listed in MONGO.md. */
export const IMPLEMENTED_COMMANDS: readonly string[] = Object.keys(HANDLERS);

const TRANSACTION_COMMANDS = new Set(['commitTransaction', 'abortTransaction']);
const TRANSACTION_FIELDS = ['startTransaction', 'autocommit', 'txnNumber'];

/** Runs one command document against the store and returns the full reply (with `ok`). */
export function runCommand(command: Doc, ctx: CommandContext): Doc {
  const name = Object.keys(command)[0];
  try {
    if (name === undefined) throw new CommandError('FailedToParse', 'empty command document');
    // A standalone server refuses these the same way; saying so beats a confusing failure later.
    if (TRANSACTION_COMMANDS.has(name) || TRANSACTION_FIELDS.some((f) => f in command)) {
      throw new CommandError(
        'IllegalOperation',
        'Transaction numbers are only allowed on a replica set member or mongos (the MongoDB stand-in is a standalone without transactions)',
      );
    }
    const handler = Object.hasOwn(HANDLERS, name) ? HANDLERS[name] : undefined;
    if (!handler) {
      return {
        ok: 0,
        errmsg: `stand-in does not implement command '${name}'`,
        code: ErrorCode.CommandNotFound,
        codeName: 'CommandNotFound',
      };
    }
    return { ...handler(command, ctx), ok: 1 };
  } catch (err) {
    const e = toCommandError(err);
    return { ok: 0, errmsg: e.message, code: e.code, codeName: e.codeName, ...e.details };
  }
}
