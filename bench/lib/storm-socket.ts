// One raw WebSocket client of the gateway protocol (docs/protocol.md §5) for the W2 and W4 load
// generators: HELLO → IDENTIFY, or RESUME from the last message id it saw once it has had a session;
// heartbeats at the interval HELLO announced; MESSAGE_CREATE frames and RESPONSEs handed to the caller
// as text. It remembers the last message id it saw (the `since` of its next RESUME) and which of its
// gateway URLs it uses. Frames are matched with string operations, not JSON.parse (a load generator
// must stay cheaper than the system it measures). Reconnecting is the caller's decision.
import WebSocket from 'ws';
import { loadgenSocketOptions } from './loadgen-socket-options.js';

export interface StormClient {
  /** The user's number (u<n>). */
  user: number;
  token: string;
  /** Gateway WebSocket URLs in order of preference (a client fails over to the next one). */
  urls: readonly string[];
  /** Index into `urls` of the gateway this client uses now. */
  urlIndex: number;
  ws: WebSocket | undefined;
  state: 'idle' | 'connecting' | 'ready' | 'closed';
  /** The highest message id seen (decimal snowflake string): the `since` of a RESUME. */
  lastId: string | undefined;
  nextHeartbeatAt: number;
}

export interface SocketEvents {
  /** A MESSAGE_CREATE frame: its text and the message id. */
  message(c: StormClient, text: string, id: string): void;
  /** READY or RESUMED arrived (`replayed`: events the RESUME replay sent). */
  established(c: StormClient, kind: 'READY' | 'RESUMED', replayed: number): void;
  /** HELLO arrived (the socket is open; IDENTIFY or RESUME goes out now). */
  hello?(c: StormClient): void;
  /** A RESPONSE (op 21) frame. */
  response?(c: StormClient, text: string): void;
  /** The socket closed (code 1006 when it failed or the server vanished); `reason` as the close frame gave it. */
  closed(c: StormClient, code: number, reason: string): void;
  /** A socket error (before the close that follows it). */
  error?(c: StormClient, code: string): void;
}

let heartbeatMs = 30_000;

export function newClient(user: number, token: string, urls: readonly string[], urlIndex = 0): StormClient {
  return { user, token, urls, urlIndex, ws: undefined, state: 'idle', lastId: undefined, nextHeartbeatAt: 0 };
}

/** Snowflake ids as decimal strings: the longer one is larger, else compare as text. */
export function idAfter(a: string, b: string | undefined): boolean {
  return b === undefined || a.length > b.length || (a.length === b.length && a > b);
}

function onFrame(c: StormClient, text: string, ev: SocketEvents): void {
  if (text.startsWith('{"op":0,"t":"MESSAGE_CREATE"')) {
    const at = text.indexOf('"d":{"id":"');
    if (at < 0) return;
    const id = text.slice(at + 11, text.indexOf('"', at + 11));
    if (idAfter(id, c.lastId)) c.lastId = id;
    ev.message(c, text, id);
    return;
  }
  if (text.startsWith('{"op":21')) {
    ev.response?.(c, text);
    return;
  }
  if (text.startsWith('{"op":10')) {
    const m = /"heartbeat_interval":(\d+)/.exec(text);
    if (m) heartbeatMs = Number(m[1]);
    const frame =
      c.lastId === undefined ? { op: 2, d: { token: c.token } } : { op: 6, d: { token: c.token, since: c.lastId } };
    c.ws!.send(JSON.stringify(frame));
    ev.hello?.(c);
    return;
  }
  const ready = text.startsWith('{"op":0,"t":"READY"');
  if (ready || text.startsWith('{"op":0,"t":"RESUMED"')) {
    c.state = 'ready';
    // Spread heartbeats over the interval, well inside the two-interval deadline.
    c.nextHeartbeatAt = Date.now() + heartbeatMs * (0.3 + 0.5 * Math.random());
    const replayed = ready ? 0 : Number(/"replayed":(\d+)/.exec(text)?.[1] ?? 0);
    ev.established(c, ready ? 'READY' : 'RESUMED', replayed);
  }
}

/** Opens the client's socket to `c.urls[c.urlIndex]` from `localAddress`; events follow through `ev`. */
export function openClient(c: StormClient, localAddress: string, ev: SocketEvents): void {
  const ws = new WebSocket(c.urls[c.urlIndex]!, loadgenSocketOptions(localAddress));
  c.ws = ws;
  c.state = 'connecting';
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary && c.ws === ws) onFrame(c, data.toString(), ev);
  });
  ws.on('error', (err: Error & { code?: string }) => {
    if (c.ws === ws) ev.error?.(c, err.code ?? err.message.slice(0, 60));
  });
  ws.on('close', (code: number, reason: Buffer) => {
    if (c.ws !== ws) return;
    c.state = 'closed';
    ev.closed(c, code, reason.toString());
  });
}

/** Heartbeats of every ready client, checked once a second. Returns the timer (unref'd by the caller's exit). */
export function startHeartbeats(clients: readonly StormClient[]): NodeJS.Timeout {
  return setInterval(() => {
    const now = Date.now();
    for (const c of clients) {
      if (c.state === 'ready' && now >= c.nextHeartbeatAt) {
        c.nextHeartbeatAt = now + heartbeatMs * 0.8;
        c.ws!.send('{"op":1,"d":null}');
      }
    }
  }, 1000);
}

/** Closes every socket (1000), waits up to `timeoutMs` for the closes, then terminates the rest. */
export async function closeAll(clients: readonly StormClient[], timeoutMs: number): Promise<void> {
  for (const c of clients) {
    if (c.ws && c.ws.readyState !== WebSocket.CLOSED) c.ws.close(1000, 'bench done');
    c.state = 'closed';
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && clients.some((c) => c.ws && c.ws.readyState !== WebSocket.CLOSED)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const c of clients) if (c.ws && c.ws.readyState !== WebSocket.CLOSED) c.ws.terminate();
}
