// One index's ordered structure: a B+ tree (sorted-btree) from index key to the stored record,
// kept in step with every insert, update and delete, and walked within index bounds forward or
// backward. Bounds on several fields are walked as the server does: each point of a field is
// visited in turn, and a range followed by further bounded fields visits each distinct value of
// the range (a skip scan), so only entries inside every field's bounds are read.

import sortedBtree from 'sorted-btree';
import { compareValues, type Doc } from './bson-values.js';
import { type Interval, intervalSide } from './index-bounds.js';
import { HIGH, type IndexKey, type KeyField, keyComparator, keyValue, LOW, MULTIKEY, valueTag } from './index-keys.js';

// sorted-btree is CommonJS with `exports.default`: an ESM import yields module.exports, while a
// CommonJS transpile of this file (tsx on a CJS caller) yields the class itself.
const BTree = ('default' in sortedBtree ? sortedBtree.default : sortedBtree) as typeof sortedBtree.default;
type Tree<R> = InstanceType<typeof BTree<IndexKey, R>>;

export class OrderedIndex<R> {
  readonly fields: readonly KeyField[];
  readonly sparse: boolean;
  /** A partial index's filter: documents it rejects are not in the tree. */
  readonly #includes: ((doc: Doc) => boolean) | undefined;
  readonly #tree: Tree<R>;
  /** Documents left out because an index path meets an array (the index is then not used for queries). */
  #multikey = 0;
  /** Per field: how many indexed documents hold each value type there. */
  readonly #tags: Map<string, number>[];

  constructor(fields: readonly KeyField[], sparse: boolean, includes?: (doc: Doc) => boolean) {
    this.fields = fields;
    this.sparse = sparse;
    this.#includes = includes;
    this.#tree = new BTree<IndexKey, R>(undefined, keyComparator(fields));
    this.#tags = fields.map(() => new Map());
  }

  get size(): number {
    return this.#tree.size;
  }

  /** Usable for queries: every document is in the tree exactly once under its only key. */
  get usable(): boolean {
    return this.#multikey === 0;
  }

  /** True when every indexed document holds values of one type (or none) at field `i`. */
  singleType(i: number): boolean {
    return this.#tags[i]!.size <= 1;
  }

  add(doc: Doc, seq: number, rec: R): void {
    const key = this.#keyOf(doc, seq);
    if (key === MULTIKEY) this.#multikey++;
    else if (key) {
      this.#tree.set(key, rec);
      this.#count(key, 1);
    }
  }

  delete(doc: Doc, seq: number): void {
    const key = this.#keyOf(doc, seq);
    if (key === MULTIKEY) this.#multikey--;
    else if (key && this.#tree.delete(key)) this.#count(key, -1);
  }

  /**
   * Re-indexes a document that changed (same `seq` and record): when its key did not change — an
   * update of fields this index does not cover — the tree is left alone.
   */
  move(before: Doc, after: Doc, seq: number, rec: R): void {
    const a = this.#keyOf(before, seq);
    const b = this.#keyOf(after, seq);
    if (Array.isArray(a) && Array.isArray(b) && this.#sameKey(a, b)) return;
    this.delete(before, seq);
    this.add(after, seq, rec);
  }

  #sameKey(a: IndexKey, b: IndexKey): boolean {
    for (let i = 0; i < this.fields.length; i++) {
      if (valueTag(a[i]) !== valueTag(b[i]) || compareValues(a[i], b[i]) !== 0) return false;
    }
    return true;
  }

  /** Entries within the bounds (one interval list per leading field), in index order or its reverse. */
  walk(bounds: readonly Interval[][], forward: boolean): Generator<[IndexKey, R]> {
    return this.#walk([], bounds, forward);
  }

  #keyOf(doc: Doc, seq: number): IndexKey | typeof MULTIKEY | undefined {
    if (this.#includes && !this.#includes(doc)) return undefined;
    const key: IndexKey = [];
    let present = false;
    for (const f of this.fields) {
      const v = keyValue(doc, f.path);
      if (v === MULTIKEY) return MULTIKEY;
      if (v !== undefined) present = true;
      key.push(v);
    }
    if (this.sparse && !present) return undefined;
    key.push(seq);
    return key;
  }

  #count(key: IndexKey, delta: number): void {
    for (let i = 0; i < this.fields.length; i++) {
      const tags = this.#tags[i]!;
      const tag = valueTag(key[i]);
      const n = (tags.get(tag) ?? 0) + delta;
      if (n === 0) tags.delete(tag);
      else tags.set(tag, n);
    }
  }

  /** A probe key: `prefix`, then `value` (when given), then every later field at LOW or HIGH. */
  #probe(prefix: readonly unknown[], high: boolean, value?: { v: unknown }): IndexKey {
    const key: IndexKey = [...prefix];
    if (value) key.push(value.v);
    while (key.length < this.fields.length) key.push(high ? HIGH : LOW);
    key.push(high ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY);
    return key;
  }

  /** Where the walk starts on `iv` at field `depth`: its near end in walking order. */
  #startProbe(prefix: readonly unknown[], depth: number, iv: Interval, forward: boolean): IndexKey {
    // The index-order low end of the interval is its value-order low end for an ascending field.
    const lowEnd = (this.fields[depth]!.dir === 1) === forward;
    const bound = lowEnd ? iv.lo : iv.hi;
    const inclusive = lowEnd ? iv.loInc : iv.hiInc;
    if (bound === undefined) return this.#probe(prefix, !forward);
    // Forward: an inclusive start seeks below the bound's entries, an exclusive one above them.
    return this.#probe(prefix, inclusive !== forward, { v: bound });
  }

  /** -1 not reached yet, 0 inside, 1 passed: `v` against `iv` in walking order. */
  #position(v: unknown, iv: Interval, depth: number, forward: boolean): number {
    return intervalSide(v, iv) * this.fields[depth]!.dir * (forward ? 1 : -1);
  }

  #seek(key: IndexKey, forward: boolean): [IndexKey, R] | undefined {
    return forward ? this.#tree.getPairOrNextHigher(key) : this.#tree.getPairOrNextLower(key);
  }

  #iterate(from: IndexKey, forward: boolean): IterableIterator<[IndexKey, R]> {
    return forward ? this.#tree.entries(from) : this.#tree.entriesReversed(from);
  }

  *#walk(prefix: unknown[], bounds: readonly Interval[][], forward: boolean): Generator<[IndexKey, R]> {
    const depth = prefix.length;
    if (depth === bounds.length) {
      for (const pair of this.#iterate(this.#probe(prefix, !forward), forward)) {
        if (!samePrefix(pair[0], prefix)) return;
        yield pair;
      }
      return;
    }
    // Intervals come in value order; walking order is that for an ascending field walked forward.
    const ascending = (this.fields[depth]!.dir === 1) === forward;
    const intervals = ascending ? bounds[depth]! : [...bounds[depth]!].reverse();
    const last = depth === bounds.length - 1;
    for (const iv of intervals) {
      if (iv.point) {
        yield* this.#walk([...prefix, iv.lo], bounds, forward);
      } else if (last) {
        for (const pair of this.#iterate(this.#startProbe(prefix, depth, iv, forward), forward)) {
          if (!samePrefix(pair[0], prefix)) break;
          const pos = this.#position(pair[0][depth], iv, depth, forward);
          if (pos > 0) break;
          if (pos === 0) yield pair;
        }
      } else {
        yield* this.#skipScan(prefix, bounds, iv, forward);
      }
    }
  }

  /** Each distinct value of field `prefix.length` inside `iv`, then the next fields' bounds under it. */
  *#skipScan(
    prefix: unknown[],
    bounds: readonly Interval[][],
    iv: Interval,
    forward: boolean,
  ): Generator<[IndexKey, R]> {
    const depth = prefix.length;
    let probe = this.#startProbe(prefix, depth, iv, forward);
    for (;;) {
      const pair = this.#seek(probe, forward);
      if (!pair || !samePrefix(pair[0], prefix)) return;
      const v = pair[0][depth];
      const pos = this.#position(v, iv, depth, forward);
      if (pos > 0) return;
      if (pos === 0) yield* this.#walk([...prefix, v], bounds, forward);
      // Past every entry holding `v` at this field.
      probe = this.#probe(prefix, forward, { v });
    }
  }
}

function samePrefix(key: IndexKey, prefix: readonly unknown[]): boolean {
  for (let i = 0; i < prefix.length; i++) if (compareValues(key[i], prefix[i]) !== 0) return false;
  return true;
}
