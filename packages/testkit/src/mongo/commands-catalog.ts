// Catalog commands: databases, collections and indexes (create, drop, list).

import type { Doc } from './bson-values.js';
import { type CommandHandler, collectionArg, docArg, docsArg, intArg, rejectCollation } from './command-context.js';
import { CommandError } from './errors.js';
import { compileFilter } from './query.js';
import type { Collection } from './store.js';
import { checkTextIndexSpec } from './text-search.js';

function requireCollection(coll: Collection | undefined, ns: string): Collection {
  if (!coll) throw new CommandError('NamespaceNotFound', `ns does not exist: ${ns}`);
  return coll;
}

export const create: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'create');
  if (cmd.capped === true || cmd.timeseries !== undefined || cmd.viewOn !== undefined) {
    throw new CommandError('IllegalOperation', 'stand-in does not implement capped, time-series collections or views');
  }
  ctx.store.create(ctx.db, name);
  return {};
};

/**
 * A missing collection fails with NamespaceNotFound (26), as servers did until 7.0 (newer ones
 * answer ok); `collection.drop()` in the driver turns it into `false` instead of throwing.
 */
export const drop: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'drop');
  const coll = ctx.store.drop(ctx.db, name);
  if (!coll) throw new CommandError('NamespaceNotFound', 'ns not found');
  return { nIndexesWas: coll.indexSpecs().length, ns: coll.ns };
};

export const dropDatabase: CommandHandler = (_cmd, ctx) => {
  ctx.store.dropDatabase(ctx.db);
  return { dropped: ctx.db };
};

export const listDatabases: CommandHandler = (cmd, ctx) => {
  const nameOnly = cmd.nameOnly === true;
  let databases: Doc[] = ctx.store.databases().map((name) => {
    if (nameOnly) return { name };
    // No bytes on disk: report a nominal size so that tools that sum sizes see a non-empty database.
    const sizeOnDisk = ctx.store.collections(name).length * 4096;
    return { name, sizeOnDisk, empty: false };
  });
  if (cmd.filter !== undefined) databases = databases.filter(compileFilter(cmd.filter));
  if (nameOnly) return { databases };
  const totalSize = databases.reduce((sum, d) => sum + Number(d.sizeOnDisk ?? 0), 0);
  return { databases, totalSize, totalSizeMb: Math.floor(totalSize / (1024 * 1024)) };
};

export const listCollections: CommandHandler = (cmd, ctx) => {
  const nameOnly = cmd.nameOnly === true;
  const entries: Doc[] = ctx.store.collections(ctx.db).map((coll) =>
    nameOnly
      ? { name: coll.name, type: 'collection' }
      : {
          name: coll.name,
          type: 'collection',
          options: {},
          info: { readOnly: false, uuid: coll.uuid },
          idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
        },
  );
  const filtered = entries.filter(compileFilter(cmd.filter));
  const batchSize = intArg(docArg(cmd, 'cursor') ?? {}, 'batchSize');
  return { cursor: ctx.cursors.open(`${ctx.db}.$cmd.listCollections`, filtered, { batchSize }) };
};

export const createIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'createIndexes');
  const specs = docsArg(cmd, 'indexes');
  if (specs.length === 0) throw new CommandError('BadValue', 'Must specify at least one index to create');
  for (const spec of specs) rejectCollation(spec);
  for (const spec of specs) checkTextIndexSpec(spec, [...(ctx.store.get(ctx.db, name)?.indexSpecs() ?? []), ...specs]);
  const { coll, created } = ctx.store.getOrCreate(ctx.db, name);
  const numIndexesBefore = coll.indexSpecs().length;
  // The server builds a batch of indexes together: if one fails, none of them is kept.
  const built: string[] = [];
  try {
    for (const spec of specs) if (coll.createIndex(spec)) built.push(String(spec.name ?? ''));
  } catch (err) {
    const names = coll
      .indexSpecs()
      .slice(numIndexesBefore)
      .map((s) => s.name);
    if (names.length > 0) coll.dropIndexes(names);
    throw err;
  }
  const reply: Doc = {
    numIndexesBefore,
    numIndexesAfter: coll.indexSpecs().length,
    createdCollectionAutomatically: created,
  };
  if (built.length === 0) reply.note = 'all indexes already exist';
  return reply;
};

export const listIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'listIndexes');
  const coll = requireCollection(ctx.store.get(ctx.db, name), `${ctx.db}.${name}`);
  const batchSize = intArg(docArg(cmd, 'cursor') ?? {}, 'batchSize');
  return { cursor: ctx.cursors.open(coll.ns, coll.indexSpecs(), { batchSize }) };
};

export const dropIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionArg(cmd, 'dropIndexes');
  const coll = requireCollection(ctx.store.get(ctx.db, name), `${ctx.db}.${name}`);
  if (cmd.index === undefined)
    throw new CommandError('FailedToParse', "BSON field 'dropIndexes.index' is missing but a required field");
  return { nIndexesWas: coll.dropIndexes(cmd.index) };
};
