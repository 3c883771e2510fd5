// The operator's hands on `<prefix>.persist.dead` (docs/operations.md "Dead letters"): list the first
// dead letters with their reasons, requeue one (republish it to the persist queue as the original write,
// confirmed, and only then remove it from the dead-letter queue) or discard one. Everything is AMQP with
// manual acks on a short-lived connection of its own: messages looked at are held unacked while the
// operation runs and handed back (nack, requeue) when it ends, so a crash mid-way loses nothing (the
// broker requeues unacked messages of a closed channel). The dead-letter queue is a quorum queue without
// a delivery limit, so handing messages back never drops one.
import { createHash } from 'node:crypto';
import amqp, { type ConfirmChannel, type GetMessage } from 'amqplib';
import { DEAD_REASON_HEADER, WRITER_HEADER } from './dead-letter.js';
import type { RouterTlsOptions } from './tls.js';
import { topologyNames } from './topology.js';
import { sharedAmqpUser } from './writer-identity.js';

/** One dead letter as the operator sees it. */
export interface DeadLetterInfo {
  /** 16 hex digits of the body's SHA-256: the handle to requeue or discard it by. */
  id: string;
  reason: string;
  type: string | null;
  message_id: string | null;
  writer: string | null;
  /** The body as text, cut to BODY_PREVIEW characters. */
  body: string;
  body_bytes: number;
}

export interface DeadLetterQueueOptions {
  /** The broker's URLs (one per node; tried in order). */
  urls: readonly string[];
  tls?: RouterTlsOptions;
  /** The deployment's name prefix (queues `<prefix>.persist`, `<prefix>.persist.dead`). */
  prefix: string;
  /** How long a connect and a publisher confirm may take. Default 10 s. */
  timeoutMs?: number;
  /** Most dead letters one requeue or discard looks through for its id. Default 100. */
  scanLimit?: number;
}

const BODY_PREVIEW = 1000;
/** Headers the broker and the dead-lettering added: dropped from a requeued write. */
const DEAD_HEADERS = [DEAD_REASON_HEADER, WRITER_HEADER, 'x-death', 'x-delivery-count'];

/** The handle of a dead letter with this body. */
export function deadLetterId(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

function reasonOf(headers: Record<string, unknown>): string {
  const own = headers[DEAD_REASON_HEADER];
  if (own !== undefined) return String(own);
  const first = headers['x-first-death-reason'];
  if (first !== undefined) return String(first);
  const death = (headers['x-death'] as Array<{ reason?: unknown }> | undefined)?.[0];
  return death?.reason === undefined ? 'unknown' : String(death.reason);
}

const text = (v: unknown): string | null => (v === undefined || v === null || v === '' ? null : String(v));

function infoOf(m: GetMessage): DeadLetterInfo {
  const headers = (m.properties.headers ?? {}) as Record<string, unknown>;
  return {
    id: deadLetterId(m.content),
    reason: reasonOf(headers),
    type: text(m.properties.type),
    message_id: text(m.properties.messageId),
    writer: text(headers[WRITER_HEADER]),
    body: m.content.toString('utf8').slice(0, BODY_PREVIEW),
    body_bytes: m.content.length,
  };
}

/** The dead-letter queue's operations; each opens and closes its own connection. */
export class DeadLetterQueue {
  readonly #o: Required<Omit<DeadLetterQueueOptions, 'tls'>> & { tls?: RouterTlsOptions };
  readonly #user: string;
  readonly #names: ReturnType<typeof topologyNames>;

  constructor(options: DeadLetterQueueOptions) {
    this.#o = { timeoutMs: 10_000, scanLimit: 100, ...options };
    this.#user = sharedAmqpUser(options.urls);
    this.#names = topologyNames(options.prefix, 1);
  }

  /**
   * The first `limit` dead letters, oldest first, and the queue's ready count. Looks without taking:
   * every message read is handed back (requeued) before this resolves.
   */
  list(limit: number): Promise<{ letters: DeadLetterInfo[]; total: number }> {
    return this.#session(async (ch, held) => {
      const { messageCount } = await ch.checkQueue(this.#names.deadQueue);
      for (let i = 0; i < limit; i++) {
        const m = await ch.get(this.#names.deadQueue, { noAck: false });
        if (m === false) break;
        held.push(m);
      }
      return { letters: held.map(infoOf), total: messageCount };
    });
  }

  /**
   * Republishes the dead letter `id` to the persist queue as its original write (the dead-lettering
   * headers removed, published as this service's AMQP user, persistent) and, once the broker confirmed
   * that publish, removes it from the dead-letter queue (ack, then a round trip so the ack is done).
   * Resolves with what was requeued, or undefined when no dead letter among the first `scanLimit` has
   * that id. Rejects (leaving the dead letter where it was) when the publish is refused or not confirmed
   * in time. If the connection drops between the confirm and the ack, the dead letter stays: a second
   * requeue republishes the same write, which the persister stores once (by its id).
   */
  requeue(id: string): Promise<DeadLetterInfo | undefined> {
    return this.#take(id, async (ch, m) => {
      const headers = { ...((m.properties.headers ?? {}) as Record<string, unknown>) };
      for (const h of DEAD_HEADERS) delete headers[h];
      for (const h of Object.keys(headers)) if (/^x-(first|last)-death-/.test(h)) delete headers[h];
      await this.#confirmed((done) =>
        ch.sendToQueue(
          this.#names.persistQueue,
          m.content,
          {
            contentType: m.properties.contentType,
            type: m.properties.type,
            messageId: m.properties.messageId,
            timestamp: m.properties.timestamp,
            headers,
            persistent: true,
            userId: this.#user,
          },
          done,
        ),
      );
    });
  }

  /** Removes the dead letter `id` for good; resolves with it, or undefined when none of the first `scanLimit` has it. */
  discard(id: string): Promise<DeadLetterInfo | undefined> {
    return this.#take(id, async () => {});
  }

  /** Finds `id` among the first `scanLimit` dead letters, runs `act` on it, then acks it (confirmed by a round trip). */
  #take(id: string, act: (ch: ConfirmChannel, m: GetMessage) => Promise<void>): Promise<DeadLetterInfo | undefined> {
    return this.#session(async (ch, held) => {
      for (let i = 0; i < this.#o.scanLimit; i++) {
        const m = await ch.get(this.#names.deadQueue, { noAck: false });
        if (m === false) return undefined;
        if (deadLetterId(m.content) !== id) {
          held.push(m);
          continue;
        }
        await act(ch, m);
        ch.ack(m);
        await ch.checkQueue(this.#names.deadQueue);
        return infoOf(m);
      }
      return undefined;
    });
  }

  /** A publish on the confirm channel, resolved by its confirm; a nack or a timeout rejects. */
  #confirmed(publish: (done: (err: unknown) => void) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the broker did not confirm within ${this.#o.timeoutMs} ms`)),
        this.#o.timeoutMs,
      );
      publish((err) => {
        clearTimeout(timer);
        if (err) reject(new Error('the broker refused the publish (is the persist queue full?)'));
        else resolve();
      });
    });
  }

  /** Runs `fn` on a fresh confirm channel; messages it leaves in `held` are handed back; always closes. */
  async #session<T>(fn: (ch: ConfirmChannel, held: GetMessage[]) => Promise<T>): Promise<T> {
    const conn = await this.#connect();
    conn.on('error', () => {});
    try {
      const ch = await conn.createConfirmChannel();
      ch.on('error', () => {});
      const held: GetMessage[] = [];
      try {
        return await fn(ch, held);
      } finally {
        for (const m of held) ch.nack(m, false, true);
        await ch.close().catch(() => {});
      }
    } finally {
      await conn.close().catch(() => {});
    }
  }

  async #connect(): Promise<amqp.ChannelModel> {
    let last: unknown;
    for (const url of this.#o.urls) {
      try {
        return await amqp.connect(url, {
          ...this.#o.tls,
          timeout: this.#o.timeoutMs,
          clientProperties: { connection_name: `${this.#o.prefix}.admin` },
        });
      } catch (err) {
        last = err;
      }
    }
    throw new Error(`no broker reachable for the dead-letter queue: ${(last as Error)?.message}`);
  }
}
