// The stand-in's data: databases of collections held in memory, each with its documents in
// insertion order and its indexes. Every index with a plain key pattern (1/-1 per field) and no
// partial filter, or one that only asks for fields to exist (partial-filter.ts), keeps an ordered
// structure that the query planner walks; unique indexes also keep a key map that enforces
// uniqueness exactly where the server would.

import { randomUUID } from 'node:crypto';
import { Binary } from 'bson';
import { canonicalKey, type Doc, formatValue, getPath, isDoc } from './bson-values.js';
import { CommandError } from './errors.js';
import { idLookupKeys } from './id-lookup.js';
import type { KeyField } from './index-keys.js';
import { type FindWindow, indexedFind, pageOf, type StoredDoc } from './indexed-find.js';
import { OrderedIndex } from './ordered-index.js';
import { existsOnlyPaths, existsPredicate } from './partial-filter.js';
import { compileFilter, type EvalOptions } from './query.js';
import { type PlannableIndex, planQuery, type QueryPlan } from './query-plan.js';

/** An index as `listIndexes` reports it. */
export interface IndexSpec extends Doc {
  v: number;
  key: Doc;
  name: string;
}

interface Index {
  spec: IndexSpec;
  fields: string[];
  unique: boolean;
  sparse: boolean;
  partial: ((doc: Doc) => boolean) | undefined;
  /** A partial index's fields that a query must bound away from null to use it (partial-filter.ts). */
  requires: string[];
  /** Unique indexes only: index key → canonical `_id` of the document holding it. */
  entries: Map<string, string>;
  /** The structure queries walk; absent for special (text, hashed, geo) and other partial indexes. */
  ordered: OrderedIndex<StoredDoc> | undefined;
}

/** A query as the read and write commands pass it to a collection. */
export interface FindQuery extends FindWindow {
  filter?: unknown;
  /** Only consulted by the planner (a projection can make tied documents indistinguishable). */
  projection?: unknown;
  variables?: EvalOptions['variables'];
  /** Scan even when an index applies (tests compare both paths). */
  scan?: boolean;
}

function orderedFields(key: Doc): KeyField[] | undefined {
  const fields: KeyField[] = [];
  for (const [path, dir] of Object.entries(key)) {
    const n = typeof dir === 'bigint' ? Number(dir) : dir;
    if (n !== 1 && n !== -1) return undefined;
    fields.push({ path, dir: n });
  }
  return fields;
}

const ID_INDEX: IndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' };

/** The name the server (and driver) give an index that has none: `a_1_b_-1`. */
export function defaultIndexName(key: Doc): string {
  return Object.entries(key)
    .map(([f, d]) => `${f}_${String(d)}`)
    .join('_');
}

function validateName(kind: 'database' | 'collection', name: unknown): string {
  const bad = kind === 'database' ? /[/\\. "$*<>:|?\0]/ : /[$\0]/;
  if (typeof name !== 'string' || name.length === 0 || bad.test(name)) {
    throw new CommandError('InvalidNamespace', `Invalid ${kind} name: '${String(name)}'`);
  }
  return name;
}

export class Collection {
  readonly db: string;
  readonly name: string;
  readonly uuid: Binary;
  /** canonical `_id` → document, in insertion order (the server's natural order for a fresh collection). */
  readonly #docs = new Map<string, StoredDoc>();
  readonly #indexes: Index[] = [];
  #nextSeq = 0;

  constructor(db: string, name: string) {
    this.db = db;
    this.name = name;
    this.uuid = new Binary(Buffer.from(randomUUID().replaceAll('-', ''), 'hex'), Binary.SUBTYPE_UUID);
    this.#indexes.push(this.#makeIndex(ID_INDEX));
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get size(): number {
    return this.#docs.size;
  }

  /** A snapshot of the documents. Stored documents are never mutated, only replaced. */
  all(): Doc[] {
    return Array.from(this.#docs.values(), (s) => s.doc);
  }

  /**
   * The documents a query matches, sorted and paged: straight from the `_id` map for an `_id`-only
   * equality or `$in` (id-lookup.ts), through an index when the planner finds one, else by a scan;
   * all give the same documents in the same order.
   */
  find(query: FindQuery = {}): Doc[] {
    const ids = query.scan ? undefined : idLookupKeys(query.filter);
    if (ids) return pageOf(this.#lookup(ids), query);
    const match = compileFilter(query.filter, { variables: query.variables });
    const plan = query.scan ? undefined : this.plan(query);
    if (!plan) return pageOf(this.all().filter(match), query);
    const ordered = this.#plannable()[plan.index]!.ordered;
    return indexedFind(ordered.walk(plan.bounds, plan.forward), plan, match, query);
  }

  /** The stored documents with these canonical `_id` keys, in insertion order (a scan's order). */
  #lookup(ids: readonly string[]): Doc[] {
    const found: StoredDoc[] = [];
    for (const id of ids) {
      const stored = this.#docs.get(id);
      if (stored) found.push(stored);
    }
    if (found.length > 1) found.sort((a, b) => a.seq - b.seq);
    return found.map((s) => s.doc);
  }

  /** The plan `find` would use (undefined: a scan); `indexName` names its index. */
  plan(query: FindQuery): (QueryPlan & { indexName: string }) | undefined {
    const indexes = this.#plannable();
    const plan = planQuery(indexes, {
      filter: query.filter,
      sort: query.sort,
      projection: query.projection,
      limited: (query.limit ?? 0) > 0,
    });
    return plan && { ...plan, indexName: indexes[plan.index]!.name };
  }

  #plannable(): Array<PlannableIndex & { ordered: OrderedIndex<StoredDoc> }> {
    const out: Array<PlannableIndex & { ordered: OrderedIndex<StoredDoc> }> = [];
    for (const index of this.#indexes) {
      const ordered = index.ordered;
      if (!ordered) continue;
      out.push({
        name: index.spec.name,
        fields: ordered.fields,
        unique: index.unique,
        sparse: index.sparse,
        requires: index.requires,
        usable: ordered.usable,
        singleType: (i) => ordered.singleType(i),
        ordered,
      });
    }
    return out;
  }

  indexSpecs(): IndexSpec[] {
    return this.#indexes.map((i) => i.spec);
  }

  /** Adds a document; throws the server's E11000 error when `_id` or a unique index key is taken. */
  insert(doc: Doc): void {
    const id = this.#idKey(doc);
    if (this.#docs.has(id)) throw this.#duplicate(this.#indexes[0]!, doc);
    const keys = this.#uniqueKeys(doc, id);
    const stored: StoredDoc = { doc, seq: this.#nextSeq++ };
    this.#docs.set(id, stored);
    for (const [index, key] of keys) index.entries.set(key, id);
    for (const index of this.#indexes) index.ordered?.add(doc, stored.seq, stored);
  }

  /** Swaps a stored document for its updated version (same `_id`), enforcing unique indexes. */
  replace(current: Doc, next: Doc): void {
    const id = this.#idKey(current);
    const oldKeys = new Map(this.#indexKeys(current));
    const newKeys = this.#uniqueKeys(next, id);
    for (const [index, key] of oldKeys) index.entries.delete(key);
    for (const [index, key] of newKeys) index.entries.set(key, id);
    const stored = this.#docs.get(id)!;
    for (const index of this.#indexes) index.ordered?.move(stored.doc, next, stored.seq, stored);
    stored.doc = next;
  }

  remove(doc: Doc): void {
    const id = this.#idKey(doc);
    for (const [index, key] of this.#indexKeys(doc)) index.entries.delete(key);
    const stored = this.#docs.get(id);
    if (stored) for (const index of this.#indexes) index.ordered?.delete(stored.doc, stored.seq);
    this.#docs.delete(id);
  }

  /**
   * Creates an index; returns false when an identical one exists (the server's "all indexes
   * already exist" no-op). A unique index over duplicate existing data fails with E11000.
   */
  createIndex(raw: Doc): boolean {
    const spec = this.#normalizeSpec(raw);
    const sameName = this.#indexes.find((i) => i.spec.name === spec.name);
    const sameKey = this.#indexes.find((i) => canonicalKey(i.spec.key) === canonicalKey(spec.key));
    if (sameName && canonicalKey(sameName.spec) === canonicalKey(spec)) return false;
    if (sameName && canonicalKey(sameName.spec.key) !== canonicalKey(spec.key)) {
      throw new CommandError(
        'IndexKeySpecsConflict',
        `An existing index has the same name as the requested index. Requested index: ${formatValue(spec)}, existing index: ${formatValue(sameName.spec)}`,
      );
    }
    if (sameName || sameKey) {
      const existing = (sameName ?? sameKey)!;
      throw new CommandError(
        'IndexOptionsConflict',
        sameName
          ? `An equivalent index already exists with the same name but different options. Requested index: ${formatValue(spec)}, existing index: ${formatValue(existing.spec)}`
          : `Index already exists with a different name: ${existing.spec.name}`,
      );
    }
    const index = this.#makeIndex(spec);
    if (index.unique) {
      for (const [id, { doc }] of this.#docs) {
        const key = this.#indexKey(index, doc);
        if (key === undefined) continue;
        if (index.entries.has(key)) {
          const dup = this.#duplicate(index, doc);
          throw new CommandError(
            'DuplicateKey',
            `Index build failed: collection ${this.ns} :: caused by :: ${dup.message}`,
            dup.details,
          );
        }
        index.entries.set(key, id);
      }
    }
    for (const stored of this.#docs.values()) index.ordered?.add(stored.doc, stored.seq, stored);
    this.#indexes.push(index);
    return true;
  }

  /** Drops indexes by name, key pattern, list of names or `'*'` (all but `_id_`); returns how many existed before. */
  dropIndexes(which: unknown): number {
    const before = this.#indexes.length;
    const targets: Index[] = [];
    if (which === '*') {
      targets.push(...this.#indexes.slice(1));
    } else {
      const names = Array.isArray(which) ? which : [which];
      for (const n of names) {
        const found = isDoc(n)
          ? this.#indexes.find((i) => canonicalKey(i.spec.key) === canonicalKey(n))
          : this.#indexes.find((i) => i.spec.name === n);
        if (!found) {
          throw new CommandError(
            'IndexNotFound',
            isDoc(n) ? `can't find index with key: ${formatValue(n)}` : `index not found with name [${String(n)}]`,
          );
        }
        if (found.spec.name === '_id_') throw new CommandError('InvalidOptions', 'cannot drop _id index');
        targets.push(found);
      }
    }
    for (const t of targets) this.#indexes.splice(this.#indexes.indexOf(t), 1);
    return before;
  }

  #normalizeSpec(raw: Doc): IndexSpec {
    const key = raw.key;
    if (!isDoc(key) || Object.keys(key).length === 0)
      throw new CommandError('BadValue', 'index key pattern must be a non-empty object');
    for (const [field, dir] of Object.entries(key)) {
      const ok = typeof dir === 'string' || ((typeof dir === 'number' || typeof dir === 'bigint') && Number(dir) !== 0);
      if (!ok)
        throw new CommandError('BadValue', `Values in the index key pattern can't be 0 or non-numbers: ${field}`);
    }
    const name = raw.name === undefined ? defaultIndexName(key) : raw.name;
    if (typeof name !== 'string' || name.length === 0)
      throw new CommandError('BadValue', 'index name must be a non-empty string');
    const { v: _v, key: _k, name: _n, ...options } = raw;
    // Options that are off are dropped, as the server does (`unique: false` lists like no option);
    // sorted so that re-creating an index with its options in another order is still a no-op.
    const kept = Object.keys(options)
      .filter((k) => options[k] !== false)
      .sort()
      .map((k) => [k, options[k]] as const);
    return { v: 2, key, name, ...Object.fromEntries(kept) };
  }

  #makeIndex(spec: IndexSpec): Index {
    const filter = spec.partialFilterExpression;
    const exists = filter === undefined ? undefined : existsOnlyPaths(filter);
    const compiled = filter === undefined ? undefined : compileFilter(filter);
    const partial = compiled && exists ? existsPredicate(exists, compiled) : compiled;
    const fields = filter === undefined || exists ? orderedFields(spec.key) : undefined;
    const sparse = spec.sparse === true;
    return {
      spec,
      fields: Object.keys(spec.key),
      unique: spec.name === '_id_' || spec.unique === true,
      sparse,
      partial,
      requires: exists ?? [],
      entries: new Map(),
      ordered: fields && new OrderedIndex<StoredDoc>(fields, sparse, partial),
    };
  }

  #idKey(doc: Doc): string {
    const id = doc._id;
    if (Array.isArray(id)) throw new CommandError('BadValue', `can't use an array for _id`);
    if (id instanceof RegExp) throw new CommandError('BadValue', `can't use a regex for _id`);
    return canonicalKey(id);
  }

  /** The key a document has in a unique index, or undefined when the index leaves it out. */
  #indexKey(index: Index, doc: Doc): string | undefined {
    const values = index.fields.map((f) => getPath(doc, f));
    if (index.sparse && values.every((v) => v === undefined)) return undefined;
    if (index.partial && !index.partial(doc)) return undefined;
    return canonicalKey(values.map((v) => (v === undefined ? null : v)));
  }

  #indexKeys(doc: Doc): Array<[Index, string]> {
    const out: Array<[Index, string]> = [];
    for (const index of this.#indexes.slice(1)) {
      if (!index.unique) continue;
      const key = this.#indexKey(index, doc);
      if (key !== undefined) out.push([index, key]);
    }
    return out;
  }

  /** Unique index keys of `doc`, checked against every other document (`selfId` is allowed to hold them). */
  #uniqueKeys(doc: Doc, selfId: string): Array<[Index, string]> {
    const keys = this.#indexKeys(doc);
    for (const [index, key] of keys) {
      const holder = index.entries.get(key);
      if (holder !== undefined && holder !== selfId) throw this.#duplicate(index, doc);
    }
    return keys;
  }

  #duplicate(index: Index, doc: Doc): CommandError {
    const keyValue: Doc = {};
    for (const f of index.fields) keyValue[f] = getPath(doc, f) ?? null;
    return new CommandError(
      'DuplicateKey',
      `E11000 duplicate key error collection: ${this.ns} index: ${index.spec.name} dup key: ${formatValue(keyValue)}`,
      { keyPattern: index.spec.key, keyValue },
    );
  }
}

/** `coll.find(query)`, or no documents for a missing collection (whose filter must still be valid). */
export function findIn(coll: Collection | undefined, query: FindQuery): Doc[] {
  if (coll) return coll.find(query);
  compileFilter(query.filter, { variables: query.variables });
  return [];
}

/** Every database of one stand-in instance. A database exists while it holds a collection. */
export class Store {
  readonly #dbs = new Map<string, Map<string, Collection>>();

  get(db: string, name: string): Collection | undefined {
    return this.#dbs.get(db)?.get(name);
  }

  /** The collection, created on first write as the server does implicitly. */
  getOrCreate(db: string, name: string): { coll: Collection; created: boolean } {
    const existing = this.get(db, name);
    if (existing) return { coll: existing, created: false };
    return { coll: this.create(db, name), created: true };
  }

  create(db: string, name: string): Collection {
    validateName('database', db);
    validateName('collection', name);
    let colls = this.#dbs.get(db);
    if (!colls) {
      colls = new Map();
      this.#dbs.set(db, colls);
    }
    if (colls.has(name)) throw new CommandError('NamespaceExists', `Collection ${db}.${name} already exists.`);
    const coll = new Collection(db, name);
    colls.set(name, coll);
    return coll;
  }

  /** Drops a collection and returns it; undefined when there was none. */
  drop(db: string, name: string): Collection | undefined {
    const colls = this.#dbs.get(db);
    const coll = colls?.get(name);
    if (!colls || !coll) return undefined;
    colls.delete(name);
    if (colls.size === 0) this.#dbs.delete(db);
    return coll;
  }

  dropDatabase(db: string): void {
    this.#dbs.delete(db);
  }

  collections(db: string): Collection[] {
    return [...(this.#dbs.get(db)?.values() ?? [])];
  }

  databases(): string[] {
    return [...this.#dbs.keys()];
  }
}
