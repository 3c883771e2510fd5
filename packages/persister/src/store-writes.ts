// Storing a batch's valid writes in MongoDB. Creates go in one call; when the server refuses that
// call for good, the batch is bisected until the refused writes are alone: the good ones are stored,
// each bad one is dead-lettered. Edits and deletes apply one at a time (see batch.ts for their order).
import type { DurableDelivery } from '@chat/router';
import type { Messages, NewMessage } from '@chat/store';
import type { DeadLetter } from './dead-letter.js';
import { type Retry, storeTransient } from './retry.js';
import type { ValidWrite } from './validate.js';

/** The store calls this module makes. */
export interface MessageWrites extends Pick<Messages, 'applyEdit' | 'applyDelete'> {
  /**
   * Stores creates idempotently by id, each with its channel's ordinal, and counts them (the channels'
   * counts and the authors' own read positions) before it resolves: @chat/store Messages.append.
   */
  append(messages: NewMessage[]): Promise<{ inserted: number; duplicates: number }>;
}

/** A delivery with its validated write. */
export interface WriteItem {
  delivery: DurableDelivery;
  write: ValidWrite;
}

type Create = Extract<ValidWrite, { kind: 'create' }>;

export interface StoreWrites {
  /** Stores the creates (all of `items` must be creates); returns those stored, in order. The others are dead-lettered. */
  storeCreates<T extends WriteItem>(items: readonly T[]): Promise<T[]>;
  /** Applies an edit or a delete; false when the server refused it for good (it is dead-lettered). */
  storeChange(item: WriteItem): Promise<boolean>;
}

const rejection = (err: unknown) => `store_rejected: ${(err as Error).message}`.slice(0, 200);

export function createStoreWrites(deps: {
  messages: MessageWrites;
  retry: Retry;
  deadLetter: DeadLetter;
  /** Told how many creates were already stored (redeliveries). */
  onDuplicates: (count: number) => void;
}): StoreWrites {
  const { messages, retry, deadLetter } = deps;
  const toNew = ({ write }: WriteItem) => {
    const w = write as Create;
    return {
      id: w.id,
      channel_id: w.channel_id,
      author: w.author,
      content: w.content,
      nonce: w.nonce,
      timestamp: w.timestamp,
      reply_to: w.reply_to,
    };
  };

  async function storeCreates<T extends WriteItem>(items: readonly T[]): Promise<T[]> {
    if (items.length === 0) return [];
    try {
      const res = await retry('store', () => messages.append(items.map(toNew)), storeTransient);
      deps.onDuplicates(res.duplicates);
      return [...items];
    } catch (err) {
      if (items.length === 1) {
        await deadLetter(items[0]!.delivery, rejection(err));
        return [];
      }
      // Appends are idempotent by id: writing the good half again costs a duplicate, never a copy.
      const half = Math.ceil(items.length / 2);
      const first = await storeCreates(items.slice(0, half));
      return [...first, ...(await storeCreates(items.slice(half)))];
    }
  }

  async function storeChange({ delivery, write: w }: WriteItem): Promise<boolean> {
    try {
      await retry(
        'store',
        () =>
          w.kind === 'update'
            ? messages.applyEdit({
                message_id: w.message_id,
                channel_id: w.channel_id,
                author_id: w.author_id,
                event_id: w.id,
                content: w.content,
              })
            : messages.applyDelete({
                message_id: (w as { message_id: string }).message_id,
                channel_id: w.channel_id,
                author_id: (w as { author_id: string }).author_id,
                event_id: w.id,
              }),
        storeTransient,
      );
      return true;
    } catch (err) {
      await deadLetter(delivery, rejection(err));
      return false;
    }
  }

  return { storeCreates, storeChange };
}
