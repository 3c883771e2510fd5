// Client bookkeeping both load generators share (ws-loadgen, socketio-loadgen): counting states for
// `status`, opening many sockets a bounded number at a time, assigning each client the channels it
// sends to, and the open-loop `run` over the clients that are ready and have channels.
import { paced, type Tracking } from './receipts.js';

export interface LoadClient {
  state: string;
  /** Channels this client sends to (empty: it only receives). */
  channels: string[];
}

export function clientStatus(
  clients: readonly LoadClient[],
  closes: Record<string, number>,
  errors: Record<string, number>,
) {
  let ready = 0;
  let closed = 0;
  let connecting = 0;
  for (const c of clients) {
    if (c.state === 'ready') ready++;
    else if (c.state === 'closed') closed++;
    else connecting++;
  }
  return { total: clients.length, ready, closed, connecting, closes, errors };
}

/** Opens `fresh` clients with at most `concurrency` handshakes in flight; `open` resolves either way. */
export async function openEach<C>(fresh: readonly C[], concurrency: number, open: (c: C) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, fresh.length) }, async () => {
      while (next < fresh.length) await open(fresh[next++]!);
    }),
  );
}

/** `configure`: client i sends to `channels[i]`. */
export function assignChannels(clients: readonly LoadClient[], channels: readonly string[][]): void {
  channels.forEach((list, i) => {
    if (clients[i]) clients[i].channels = list;
  });
}

/** Open loop: `rate` creates per second from random ready clients with channels, paced by a 5 ms timer. */
export function openLoop<C extends LoadClient>(
  t: Tracking,
  clients: readonly C[],
  rate: number,
  durationMs: number,
  send: (c: C) => void,
) {
  const senders = clients.filter((c) => c.state === 'ready' && c.channels.length > 0);
  if (senders.length === 0) throw new Error('no ready client with channels');
  return paced(t, rate, durationMs, () => {
    const c = senders[Math.floor(Math.random() * senders.length)]!;
    if (c.state === 'ready') send(c);
    else t.sent++; // a closed socket: count it as sent (and lost) rather than bunch the rest
  });
}
