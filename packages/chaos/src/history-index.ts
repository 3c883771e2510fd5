// Lookups over a History that several rules share: built once per check.
import type { ClientEvent, History, StoredMessage } from './history.js';

export type EventOf<K extends ClientEvent['kind']> = Extract<ClientEvent, { kind: K }>;

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export class HistoryIndex {
  readonly history: History;
  /** Stored messages by id, and by `channel author nonce` (several when a write was stored twice). */
  readonly storedById = new Map<string, StoredMessage>();
  readonly storedByNonce = new Map<string, StoredMessage[]>();
  /** Events by client, in time order. */
  readonly byClient = new Map<string, ClientEvent[]>();
  /** send/ack/refused/unknown by `channel author nonce`. */
  readonly attemptsByNonce = new Map<string, ClientEvent[]>();
  /** Channels of each user. */
  readonly channelsOf = new Map<string, Set<string>>();

  constructor(history: History) {
    this.history = history;
    for (const m of history.stored) {
      this.storedById.set(m.id, m);
      if (m.nonce !== null) push(this.storedByNonce, nonceKey(m.channel, m.author, m.nonce), m);
    }
    const events = [...history.events].sort((a, b) => a.at - b.at);
    for (const e of events) {
      push(this.byClient, e.client, e);
      if (e.kind === 'send' || e.kind === 'ack' || e.kind === 'refused' || e.kind === 'unknown') {
        push(this.attemptsByNonce, nonceKey(e.channel, this.userOf(e.client), e.nonce), e);
      }
    }
    for (const [channel, users] of Object.entries(history.members)) {
      for (const u of users) {
        const set = this.channelsOf.get(u) ?? new Set<string>();
        set.add(channel);
        this.channelsOf.set(u, set);
      }
    }
  }

  userOf(client: string): string {
    return this.history.users[client] ?? `?${client}`;
  }

  eventsOf<K extends ClientEvent['kind']>(client: string, kind: K): EventOf<K>[] {
    return (this.byClient.get(client) ?? []).filter((e): e is EventOf<K> => e.kind === kind);
  }

  /** Every event of every client that names this message id or (with its author and channel) nonce. */
  storyEvents(id: string | null, key: string | null): ClientEvent[] {
    const out: ClientEvent[] = [];
    for (const e of this.history.events) {
      const byId = id !== null && 'id' in e && e.id === id;
      const byNonce = key !== null && 'nonce' in e && nonceKey(e.channel, this.userOf(e.client), e.nonce) === key;
      if (byId || byNonce) out.push(e);
    }
    return out.sort((a, b) => a.at - b.at);
  }
}

/** The key under which the server keeps one message per author, channel and nonce. */
export function nonceKey(channel: string, author: string, nonce: string): string {
  return `${channel} ${author} ${nonce}`;
}
