// Message batches as a persister stores them in a DM-heavy load: each message to a random one of
// `channels` channels (`dm<c>`), by a random one of its `members` (default 2: a DM; users
// `1000 + members·c` …), with snowflake ids that increase across batches (4,096 per millisecond from
// `t0`). Used by the counting and standin-writes scenarios.
import { makeSnowflake } from '@chat/protocol';
import type { NewMessage } from '@chat/store';
import type { FlagDefs } from './scenario.js';

/** The `--channels` and `--batch` flags of the scenarios that store DmBatches. */
export const DM_BATCH_FLAGS = {
  channels: { type: 'int', default: 2000, min: 10, max: 100_000, help: 'DM channels' },
  batch: { type: 'int', default: 60, min: 1, max: 1000, help: 'messages per batch' },
} as const satisfies FlagDefs;

export class DmBatches {
  readonly #channels: number;
  readonly #size: number;
  readonly #t0: number;
  readonly #random: () => number;
  readonly #members: number;
  #seq = 0;

  constructor(opts: { channels: number; size: number; t0: number; random: () => number; members?: number }) {
    this.#members = opts.members ?? 2;
    this.#channels = opts.channels;
    this.#size = opts.size;
    this.#t0 = opts.t0;
    this.#random = opts.random;
  }

  /** The next batch of `size` messages. */
  next(): NewMessage[] {
    return Array.from({ length: this.#size }, () => {
      const c = Math.floor(this.#random() * this.#channels);
      const author = `${1000 + this.#members * c + Math.floor(this.#random() * this.#members)}`;
      const i = this.#seq++;
      return {
        id: makeSnowflake(this.#t0 + Math.floor(i / 4096), 1, i % 4096).toString(),
        channel_id: `dm${c}`,
        author: { id: author, username: `u${author}` },
        content: `message ${i}`,
      };
    });
  }
}
