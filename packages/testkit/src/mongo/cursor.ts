// Server-side cursors: a result computed once at find/aggregate time, handed out in batches by
// `getMore`. Ids are random non-zero Int64s like the server's; 0 means "no more batches".

import { randomBytes } from 'node:crypto';
import { calculateObjectSize } from 'bson';
import type { Doc } from './bson-values.js';
import { CommandError } from './errors.js';

/** The server's default size of a first batch when the command gives no batchSize. */
const DEFAULT_FIRST_BATCH = 101;
/** A batch stops growing at the BSON document limit, as on the server. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

interface OpenCursor {
  ns: string;
  docs: Doc[];
  pos: number;
  /** Documents the command's `limit` still allows. */
  remaining: number;
}

export interface CursorOptions {
  batchSize?: number | undefined;
  limit?: number | undefined;
  singleBatch?: boolean | undefined;
}

/** The `cursor` field of a find/aggregate/getMore reply. */
export interface CursorReply extends Doc {
  id: bigint;
  ns: string;
}

export class Cursors {
  readonly #open = new Map<bigint, OpenCursor>();

  get size(): number {
    return this.#open.size;
  }

  /** Starts a cursor over `docs` and returns the first batch (`cursor.firstBatch`). */
  open(ns: string, docs: Doc[], opts: CursorOptions = {}): CursorReply {
    const limit = opts.limit !== undefined && opts.limit > 0 ? opts.limit : Number.POSITIVE_INFINITY;
    const cursor: OpenCursor = { ns, docs, pos: 0, remaining: limit };
    const batch = this.#take(cursor, opts.batchSize ?? DEFAULT_FIRST_BATCH);
    const done = opts.singleBatch === true || this.#exhausted(cursor);
    const id = done ? 0n : this.#newId();
    if (!done) this.#open.set(id, cursor);
    return { firstBatch: batch, id, ns };
  }

  /** The next batch of an open cursor (`cursor.nextBatch`); closes it when exhausted. */
  getMore(id: bigint, batchSize: number | undefined): CursorReply {
    const cursor = this.#open.get(id);
    if (!cursor) throw new CommandError('CursorNotFound', `cursor id ${id} not found`);
    const batch = this.#take(cursor, batchSize && batchSize > 0 ? batchSize : Number.POSITIVE_INFINITY);
    const done = this.#exhausted(cursor);
    if (done) this.#open.delete(id);
    return { nextBatch: batch, id: done ? 0n : id, ns: cursor.ns };
  }

  /** Kills cursors by id; returns which existed. */
  kill(ids: bigint[]): { killed: bigint[]; notFound: bigint[] } {
    const killed: bigint[] = [];
    const notFound: bigint[] = [];
    for (const id of ids) (this.#open.delete(id) ? killed : notFound).push(id);
    return { killed, notFound };
  }

  clear(): void {
    this.#open.clear();
  }

  #take(cursor: OpenCursor, count: number): Doc[] {
    const batch: Doc[] = [];
    let bytes = 0;
    while (batch.length < count && cursor.remaining > 0 && cursor.pos < cursor.docs.length) {
      const doc = cursor.docs[cursor.pos]!;
      const size = calculateObjectSize(doc);
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      batch.push(doc);
      bytes += size;
      cursor.pos++;
      cursor.remaining--;
    }
    return batch;
  }

  #exhausted(cursor: OpenCursor): boolean {
    return cursor.remaining <= 0 || cursor.pos >= cursor.docs.length;
  }

  #newId(): bigint {
    for (;;) {
      // 62 random bits: positive, non-zero and far from colliding.
      const id = randomBytes(8).readBigUInt64BE() >> 2n;
      if (id !== 0n && !this.#open.has(id)) return id;
    }
  }
}
