// Sends the page's read acks: the newest message seen per channel, at most one ack in flight per
// channel (what is seen meanwhile is coalesced into the next one), never an id at or below one already
// acked. So a busy open channel costs one ack per round trip, not one per message.
import { compareIds, type Snowflake } from '@chat/client';

export class Acker {
  readonly #send: (channelId: Snowflake, messageId: Snowflake) => Promise<unknown>;
  readonly #onError: (err: unknown) => void;
  /** The newest id waiting to be acked, per channel. */
  readonly #waiting = new Map<Snowflake, Snowflake>();
  /** The newest id acked (or being acked), per channel. */
  readonly #acked = new Map<Snowflake, Snowflake>();
  readonly #inFlight = new Set<Snowflake>();

  constructor(send: (channelId: Snowflake, messageId: Snowflake) => Promise<unknown>, onError: (err: unknown) => void) {
    this.#send = send;
    this.#onError = onError;
  }

  /** The user has seen `messageId` in the channel: ack it (soon) unless something as new was acked. */
  seen(channelId: Snowflake, messageId: Snowflake): void {
    const newer = (id: Snowflake | undefined) => id === undefined || compareIds(messageId, id) > 0;
    if (!newer(this.#acked.get(channelId)) || !newer(this.#waiting.get(channelId))) return;
    this.#waiting.set(channelId, messageId);
    if (!this.#inFlight.has(channelId)) void this.#drain(channelId);
  }

  /** Forgets a channel (left, or the view stopped). */
  forget(channelId: Snowflake): void {
    this.#waiting.delete(channelId);
    this.#acked.delete(channelId);
  }

  async #drain(channelId: Snowflake): Promise<void> {
    this.#inFlight.add(channelId);
    try {
      for (let id = this.#waiting.get(channelId); id !== undefined; id = this.#waiting.get(channelId)) {
        this.#waiting.delete(channelId);
        this.#acked.set(channelId, id);
        await this.#send(channelId, id).catch(this.#onError);
      }
    } finally {
      this.#inFlight.delete(channelId);
    }
  }
}
