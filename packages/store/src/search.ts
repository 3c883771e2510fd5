// Full-text search over messages: MongoDB's text index on `content` (language "none": words split at
// whitespace, punctuation and symbols, case- and diacritic-insensitive, no stemming, no stop words), queried with
// `$text` inside the caller's channels. Tombstones hold no content, so deleted messages never match;
// an edit replaces the content, so the edited words are what match.
import { SEARCH_DELIMITER } from '@chat/protocol';
import type { Collection } from 'mongodb';
import { ValidationError } from './errors.js';
import { type Messages, toLong } from './messages.js';
import type { Message, MessageDoc } from './types.js';

/** The text index; one per collection (a MongoDB rule). */
export const SEARCH_INDEX = { key: { content: 'text' }, name: 'content_text', default_language: 'none' } as const;

export interface SearchQuery {
  /** Folded words (protocol `searchTerms`), 1 or more: a message must hold every one. */
  terms: readonly string[];
  /** Only messages with an id below this (the last id of the previous page). */
  before?: string | undefined;
  /** Page size, ≥ 1. */
  limit: number;
}

export class MessageSearch {
  readonly #col: Collection<MessageDoc>;
  /** Turns documents into messages with their replies' references resolved. */
  readonly #messages: Pick<Messages, 'toMessages'>;

  constructor(col: Collection<MessageDoc>, messages: Pick<Messages, 'toMessages'>) {
    this.#col = col;
    this.#messages = messages;
  }

  async createIndexes(): Promise<void> {
    const { key, ...options } = SEARCH_INDEX;
    await this.#col.createIndex({ ...key }, options);
  }

  /**
   * Messages of these channels whose content holds every term, newest first, at most `limit`; with
   * `before`, the page after the one that ended there (ids only decrease, so pages neither overlap nor
   * skip). Each term is sent as a quoted phrase: MongoDB then requires all of them, looking them up as
   * words in the index and checking each as (case- and diacritic-folded) text of the content — so a term
   * may also match inside a longer word when another term matched a whole word.
   */
  async search(channelIds: readonly string[], q: SearchQuery): Promise<Message[]> {
    if (q.terms.length === 0) throw new ValidationError('a search needs at least one word');
    // A word holds no delimiter, so no quote that could end the phrase it is sent in.
    const bad = q.terms.find((t) => t.length === 0 || SEARCH_DELIMITER.test(t));
    if (bad !== undefined) throw new ValidationError(`a search term is one word, not "${bad}"`);
    if (channelIds.length === 0) return [];
    const filter: Record<string, unknown> = {
      $text: { $search: q.terms.map((t) => `"${t}"`).join(' ') },
      channel_id: { $in: [...channelIds] },
      deleted: false,
    };
    if (q.before !== undefined) filter._id = { $lt: toLong(q.before) };
    const docs = await this.#col.find(filter).sort({ _id: -1 }).limit(q.limit).toArray();
    return this.#messages.toMessages(docs);
  }
}
