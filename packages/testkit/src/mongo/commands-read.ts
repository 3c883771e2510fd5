// Read commands: find, getMore, killCursors, count, distinct and aggregate. Results are computed
// in full when the command runs and then served in batches, so a cursor sees a snapshot (the
// server does not promise that; nothing in our code may rely on either behaviour).

import { canonicalKey, compareValues, type Doc, isDoc, parseSort, pathValues } from './bson-values.js';
import { boolArg, type CommandHandler, collectionArg, docArg, intArg, rejectCollation } from './command-context.js';
import { CommandError } from './errors.js';
import { projectDocs, runPipeline } from './query.js';
import { findIn } from './store.js';
import { findText, splitTextFilter } from './text-find.js';

function nonNegative(cmd: Doc, field: string): number | undefined {
  const v = intArg(cmd, field);
  if (v !== undefined && v < 0)
    throw new CommandError('BadValue', `${field} value must be non-negative, but received: ${v}`);
  return v;
}

export const find: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'find');
  if (boolArg(cmd, 'tailable')) throw new CommandError('BadValue', 'stand-in does not implement tailable cursors');
  rejectCollation(cmd);
  const coll = ctx.store.get(ctx.db, name);
  const text = splitTextFilter(cmd.filter);
  const query = {
    filter: cmd.filter,
    variables: docArg(cmd, 'let'),
    sort: text ? undefined : parseSort(cmd.sort),
    skip: nonNegative(cmd, 'skip'),
    limit: nonNegative(cmd, 'limit'),
    projection: cmd.projection,
  };
  const docs = text
    ? findText(coll, text, { ...query, sort: cmd.sort })
    : projectDocs(findIn(coll, query), cmd.projection);
  const cursor = ctx.cursors.open(`${ctx.db}.${name}`, docs, {
    batchSize: nonNegative(cmd, 'batchSize'),
    singleBatch: boolArg(cmd, 'singleBatch'),
  });
  return { cursor };
};

export const getMore: CommandHandler = (cmd, ctx) => {
  const raw = cmd.getMore;
  if (typeof raw !== 'bigint' && typeof raw !== 'number') {
    throw new CommandError('TypeMismatch', "Field 'getMore' must be of type long in: getMore");
  }
  collectionArg(cmd, 'collection');
  return { cursor: ctx.cursors.getMore(BigInt(raw), nonNegative(cmd, 'batchSize')) };
};

export const killCursors: CommandHandler = (cmd, ctx) => {
  collectionArg(cmd, 'killCursors');
  const ids = cmd.cursors;
  if (!Array.isArray(ids))
    throw new CommandError('TypeMismatch', "BSON field 'killCursors.cursors' is missing or not an array");
  const { killed, notFound } = ctx.cursors.kill(ids.map((id) => BigInt(id as bigint | number)));
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [] };
};

export const count: CommandHandler = (cmd, ctx) => {
  const coll = ctx.store.get(ctx.db, collectionArg(cmd, 'count'));
  rejectCollation(cmd);
  const total = findIn(coll, { filter: cmd.query }).length;
  const skip = nonNegative(cmd, 'skip') ?? 0;
  // A negative limit counts like its absolute value, as on the server.
  const limit = Math.abs(intArg(cmd, 'limit') ?? 0);
  const afterSkip = Math.max(0, total - skip);
  return { n: limit > 0 ? Math.min(limit, afterSkip) : afterSkip };
};

export const distinct: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'distinct');
  const key = cmd.key;
  if (typeof key !== 'string')
    throw new CommandError('TypeMismatch', "BSON field 'distinct.key' is missing or not a string");
  rejectCollation(cmd);
  const coll = ctx.store.get(ctx.db, name);
  const matched = findIn(coll, { filter: cmd.query });
  const seen = new Map<string, unknown>();
  for (const doc of matched) {
    for (const v of pathValues(doc, key, 'elements')) {
      if (v === undefined) continue;
      const k = canonicalKey(v);
      if (!seen.has(k)) seen.set(k, v);
    }
  }
  return { values: [...seen.values()].sort(compareValues) };
};

export const aggregate: CommandHandler = (cmd, ctx) => {
  const target = cmd.aggregate;
  if (typeof target !== 'string') {
    throw new CommandError('IllegalOperation', 'stand-in does not implement database-level aggregate ({aggregate: 1})');
  }
  if (cmd.explain !== undefined) throw new CommandError('IllegalOperation', 'stand-in does not implement explain');
  rejectCollation(cmd);
  const cursorOpts = docArg(cmd, 'cursor');
  if (!cursorOpts) {
    throw new CommandError(
      'FailedToParse',
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  const coll = ctx.store.get(ctx.db, target);
  // A leading $match is answered as a find is (through an index when one serves it), as the server's
  // planner does; the rest of the pipeline runs on its matches, in the same order a scan gives them.
  const [first, ...rest] = Array.isArray(cmd.pipeline) ? (cmd.pipeline as unknown[]) : [];
  const leadingMatch =
    cmd.let === undefined && isDoc(first) && Object.keys(first).length === 1 && isDoc(first.$match)
      ? first.$match
      : undefined;
  const input = leadingMatch ? findIn(coll, { filter: leadingMatch }) : coll ? coll.all() : [];
  const out = runPipeline(input, leadingMatch ? rest : cmd.pipeline, {
    variables: docArg(cmd, 'let'),
    collectionResolver: (other) => ctx.store.get(ctx.db, other)?.all() ?? [],
  });
  const batchSize = intArg(cursorOpts, 'batchSize');
  return { cursor: ctx.cursors.open(`${ctx.db}.${target}`, out, { batchSize }) };
};
