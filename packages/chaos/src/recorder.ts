// Wraps one @chat/client ChatClient and records into the run's history every send attempt and its
// outcome, every raw DISPATCH, every message event the SDK passed on, every READY/RESUMED and state
// change — with timestamps and the gateway (server_id) the client was on.
import { type ChatClient, ChatRequestError, createNonce, type Message } from '@chat/client';
import type { ClientEvent } from './history.js';

type Sink = (e: ClientEvent) => void;

function messageFields(d: unknown): { channel: string | null; id: string | null; content: string | null } {
  const o = (d ?? {}) as { channel_id?: unknown; id?: unknown; content?: unknown };
  return {
    channel: typeof o.channel_id === 'string' ? o.channel_id : null,
    id: typeof o.id === 'string' ? o.id : null,
    content: typeof o.content === 'string' ? o.content : null,
  };
}

export class RecordedClient {
  readonly name: string;
  readonly client: ChatClient;
  readonly #sink: Sink;
  #conn = 0;

  constructor(name: string, client: ChatClient, sink: Sink) {
    this.name = name;
    this.client = client;
    this.#sink = sink;
    const gw = () => client.serverId;
    const client_ = name;
    client.on('state', (state, _prev, change) => {
      if (state === 'connecting' || state === 'reconnecting') this.#conn++;
      sink({ kind: 'state', at: Date.now(), client: client_, state, code: change.code ?? null });
    });
    client.on('ready', () => sink({ kind: 'ready', at: Date.now(), client: client_, conn: this.#conn, gateway: gw() }));
    client.on('resumed', (p) =>
      sink({
        kind: 'resumed',
        at: Date.now(),
        client: client_,
        conn: this.#conn,
        gateway: gw(),
        truncated: p.truncated,
      }),
    );
    client.on('dispatch', (t, d) => {
      if (!t.startsWith('MESSAGE_')) return;
      sink({
        kind: 'dispatch',
        at: Date.now(),
        client: client_,
        conn: this.#conn,
        gateway: gw(),
        event: t,
        ...messageFields(d),
      });
    });
    const view = (event: 'create' | 'update', m: Message) =>
      sink({
        kind: 'view',
        at: Date.now(),
        client: client_,
        event,
        channel: m.channel_id,
        id: m.id,
        content: m.content,
      });
    client.on('messageCreate', (m) => view('create', m));
    client.on('messageUpdate', (m) => view('update', m));
    client.on('messageDelete', (p) =>
      sink({
        kind: 'view',
        at: Date.now(),
        client: client_,
        event: 'delete',
        channel: p.channel_id,
        id: p.id,
        content: null,
      }),
    );
  }

  /**
   * One message.create attempt through the SDK's `send()` (which resends on a dropped connection with
   * the same nonce). Resolves with the stored id, or null when refused or unanswered; never rejects.
   */
  async send(
    channel: string,
    content: string,
    nonce: string = createNonce(),
    timeoutMs = 10_000,
  ): Promise<string | null> {
    const base = { client: this.name, channel, nonce };
    this.#sink({ kind: 'send', at: Date.now(), ...base, content });
    try {
      const m = await this.client.send(channel, content, { nonce, timeoutMs });
      this.#sink({ kind: 'ack', at: Date.now(), ...base, id: m.id, gateway: this.client.serverId });
      return m.id;
    } catch (err) {
      if (err instanceof ChatRequestError) this.#sink({ kind: 'refused', at: Date.now(), ...base, code: err.code });
      else this.#sink({ kind: 'unknown', at: Date.now(), ...base, error: String((err as Error).message ?? err) });
      return null;
    }
  }

  /** message.update (`content`) or message.delete (`content` null) of an own message; records the outcome. */
  async change(channel: string, id: string, content: string | null, timeoutMs = 10_000): Promise<void> {
    let outcome: 'ok' | 'refused' | 'unknown' = 'ok';
    try {
      if (content === null) await this.client.delete(channel, id, { timeoutMs });
      else await this.client.edit(channel, id, content, { timeoutMs });
    } catch (err) {
      outcome = err instanceof ChatRequestError ? 'refused' : 'unknown';
    }
    const kind = content === null ? 'delete' : 'edit';
    this.#sink({ kind, at: Date.now(), client: this.name, channel, id, content, outcome });
  }
}
