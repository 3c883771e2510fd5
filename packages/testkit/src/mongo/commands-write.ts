// Write commands: insert, update, delete and findAndModify, with the server's reply shapes
// (`n`, `nModified`, `upserted`, `writeErrors` per statement, `lastErrorObject`). Each command
// runs to completion before the next message is read, so every write is atomic here.

import type { Doc } from './bson-values.js';
import { isDoc, parseSort } from './bson-values.js';
import {
  boolArg,
  type CommandHandler,
  collectionArg,
  docArg,
  docsArg,
  intArg,
  rejectCollation,
} from './command-context.js';
import { CommandError, toCommandError } from './errors.js';
import { projectDocs } from './query.js';
import { findIn } from './store.js';
import { applyUpdate, changedByUpdate, isOperatorUpdate, sameDocument, upsertSeed, withIdFirst } from './update.js';

interface WriteError extends Doc {
  index: number;
  code: number;
  errmsg: string;
}

function writeError(index: number, err: unknown): WriteError {
  const e = toCommandError(err);
  return { index, code: e.code, ...e.details, errmsg: e.message };
}

/** Runs each statement; an `ordered` batch stops at the first failure, an unordered one goes on. */
function eachStatement(statements: Doc[], ordered: boolean, run: (stmt: Doc, index: number) => void): WriteError[] {
  const errors: WriteError[] = [];
  for (let i = 0; i < statements.length; i++) {
    try {
      run(statements[i]!, i);
    } catch (err) {
      errors.push(writeError(i, err));
      if (ordered) break;
    }
  }
  return errors;
}

function withErrors(reply: Doc, errors: WriteError[]): Doc {
  return errors.length > 0 ? { ...reply, writeErrors: errors } : reply;
}

function variablesOf(cmd: Doc): Doc | undefined {
  return docArg(cmd, 'let');
}

/** The new document of an upsert: the filter's equalities (for operator updates), then the update. */
function upsertDocument(filter: unknown, u: unknown, arrayFilters: Doc[] | undefined, variables: Doc | undefined): Doc {
  const seed = upsertSeed(filter);
  const replacement = isDoc(u) && !isOperatorUpdate(u);
  const base = replacement ? ('_id' in seed ? { _id: seed._id } : {}) : seed;
  return applyUpdate(base, u, { isInsert: true, arrayFilters, variables });
}

export const insert: CommandHandler = (cmd, ctx) => {
  const docs = docsArg(cmd, 'documents');
  const { coll } = ctx.store.getOrCreate(ctx.db, collectionArg(cmd, 'insert'));
  let n = 0;
  const errors = eachStatement(docs, cmd.ordered !== false, (doc) => {
    coll.insert(withIdFirst(doc));
    n++;
  });
  return withErrors({ n }, errors);
};

export const update: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'update');
  const statements = docsArg(cmd, 'updates');
  const variables = variablesOf(cmd);
  let n = 0;
  let nModified = 0;
  const upserted: Doc[] = [];
  const errors = eachStatement(statements, cmd.ordered !== false, (stmt, index) => {
    rejectCollation(stmt);
    const u = stmt.u;
    const multi = boolArg(stmt, 'multi');
    const arrayFilters = stmt.arrayFilters === undefined ? undefined : docsArg(stmt, 'arrayFilters');
    if (multi && isDoc(u) && !isOperatorUpdate(u)) {
      throw new CommandError('FailedToParse', 'multi update is not supported for replacement-style update');
    }
    const coll = ctx.store.get(ctx.db, name);
    // `sort` picks which document a single-document update changes (server 8.0 accepts it).
    const targets = multi
      ? findIn(coll, { filter: stmt.q, variables })
      : findIn(coll, { filter: stmt.q, variables, sort: parseSort(stmt.sort), limit: 1 });
    if (targets.length === 0) {
      if (!boolArg(stmt, 'upsert')) return;
      const doc = upsertDocument(stmt.q, u, arrayFilters, variables);
      ctx.store.getOrCreate(ctx.db, name).coll.insert(doc);
      n++;
      upserted.push({ index, _id: doc._id });
      return;
    }
    for (const current of multi ? targets : targets.slice(0, 1)) {
      const next = changedByUpdate(current, u, { isInsert: false, arrayFilters, variables });
      n++;
      if (next === undefined) continue;
      coll!.replace(current, next);
      nModified++;
    }
  });
  const reply: Doc = { n, nModified };
  if (upserted.length > 0) reply.upserted = upserted;
  return withErrors(reply, errors);
};

export const remove: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'delete');
  const statements = docsArg(cmd, 'deletes');
  const variables = variablesOf(cmd);
  let n = 0;
  const errors = eachStatement(statements, cmd.ordered !== false, (stmt) => {
    rejectCollation(stmt);
    const limit = intArg(stmt, 'limit') ?? 0;
    if (limit !== 0 && limit !== 1) {
      throw new CommandError('FailedToParse', `The limit field in delete objects must be 0 or 1. Got ${limit}`);
    }
    const coll = ctx.store.get(ctx.db, name);
    const targets = findIn(coll, { filter: stmt.q, variables, limit });
    for (const doc of targets) {
      coll!.remove(doc);
      n++;
    }
  });
  return withErrors({ n }, errors);
};

function projectOne(doc: Doc | undefined, fields: Doc | undefined): Doc | null {
  if (!doc) return null;
  return projectDocs([doc], fields)[0] ?? null;
}

export const findAndModify: CommandHandler = (cmd, ctx) => {
  const commandName = Object.keys(cmd)[0]!;
  const name = collectionArg(cmd, commandName);
  const query = docArg(cmd, 'query') ?? {};
  const fields = docArg(cmd, 'fields');
  const isRemove = boolArg(cmd, 'remove');
  const upsert = boolArg(cmd, 'upsert');
  const u = cmd.update;
  const variables = variablesOf(cmd);
  const arrayFilters = cmd.arrayFilters === undefined ? undefined : docsArg(cmd, 'arrayFilters');
  if (isRemove && u !== undefined)
    throw new CommandError('FailedToParse', 'Cannot specify both an update and remove=true');
  if (!isRemove && u === undefined)
    throw new CommandError('FailedToParse', 'Either an update or remove=true must be specified');
  if (isRemove && upsert) throw new CommandError('FailedToParse', 'Cannot specify both upsert=true and remove=true');
  rejectCollation(cmd);

  const coll = ctx.store.get(ctx.db, name);
  const target = findIn(coll, { filter: query, variables, sort: parseSort(cmd.sort), limit: 1 })[0];
  if (isRemove) {
    if (!target) return { lastErrorObject: { n: 0 }, value: null };
    coll!.remove(target);
    return { lastErrorObject: { n: 1 }, value: projectOne(target, fields) };
  }
  if (target) {
    const next = applyUpdate(target, u, { isInsert: false, arrayFilters, variables });
    if (!sameDocument(target, next)) coll!.replace(target, next);
    const value = projectOne(boolArg(cmd, 'new') ? next : target, fields);
    return { lastErrorObject: { n: 1, updatedExisting: true }, value };
  }
  if (!upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null };
  const doc = upsertDocument(query, u, arrayFilters, variables);
  ctx.store.getOrCreate(ctx.db, name).coll.insert(doc);
  return {
    lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
    value: boolArg(cmd, 'new') ? projectOne(doc, fields) : null,
  };
};
