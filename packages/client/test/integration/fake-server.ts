// A scripted protocol peer for the client's integration tests: ws's WebSocketServer and node:http
// on 127.0.0.1, speaking docs/protocol.md §5–6 frame by frame as each test dictates. It is not a
// gateway (no auth, no routing). Everything a normal gateway does is tested against a real one in
// test/e2e/gateway-api.test.ts and test/e2e/session-habits.test.ts; this fake is kept ONLY for what a
// real gateway cannot be made to do on cue:
// - withhold or misbehave: a missed HEARTBEAT_ACK, no RESPONSE, an undecodable frame, a 502 without
//   a JSON body, an HTTP call that hangs, a handshake that never completes;
// - send what only a fault or a race produces: the same delivery twice, a RESUME replay carrying an
//   edit, RESUMED with `truncated`, INVALID_SESSION, RECONNECT, a server HEARTBEAT, a 4002/4004/4008
//   close at a chosen moment (mid-request, after open);
// - show the exact frames the client sends (heartbeat `d`, RESUME `since`, the resent nonce).
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Frame, Op } from '@chat/protocol';
import { type WebSocket, WebSocketServer } from 'ws';

export type { Frame };

export interface HttpRequest {
  method: string;
  /** Path with query string. */
  url: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, or undefined. */
  body: unknown;
}

export interface HttpReply {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is a string. */
  body?: unknown;
  /** Never answer (for timeouts). */
  hang?: boolean;
}

/** A queue that hands items to the oldest waiter whose predicate matches. */
class Inbox<T> {
  readonly #items: T[] = [];
  readonly #waiters: Array<{ match: (item: T) => boolean; resolve: (item: T) => void }> = [];

  push(item: T): void {
    const i = this.#waiters.findIndex((w) => w.match(item));
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      w!.resolve(item);
      return;
    }
    this.#items.push(item);
  }

  take(match: (item: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const i = this.#items.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#items.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`fake server: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Items not taken yet. */
  get pending(): readonly T[] {
    return this.#items;
  }
}

export class PeerConnection {
  readonly url: URL;
  /** Every frame the client sent on this connection, in order. */
  readonly received: Frame[] = [];
  /** Answer HEARTBEAT with HEARTBEAT_ACK. */
  autoAck = true;
  /** Resolves with the close code and reason when the connection closes (either side). */
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #ws: WebSocket;
  readonly #inbox = new Inbox<Frame>();
  #seq = 0;

  constructor(ws: WebSocket, url: URL) {
    this.#ws = ws;
    this.url = url;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    ws.on('message', (data, isBinary) => {
      const frame = JSON.parse(isBinary ? '' : data.toString()) as Frame;
      this.received.push(frame);
      if (frame.op === Op.HEARTBEAT && this.autoAck) this.send({ op: Op.HEARTBEAT_ACK, d: null });
      this.#inbox.push(frame);
    });
  }

  /** The next frame with this op the client sent (already received or still to come). */
  next(op: number, timeoutMs = 2000): Promise<Frame> {
    return this.#inbox.take((f) => f.op === op, timeoutMs, `frame with op ${op}`);
  }

  send(frame: Frame | string): void {
    this.#ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  hello(heartbeatInterval = 60_000, serverId = 'fake-1'): void {
    this.send({ op: Op.HELLO, d: { heartbeat_interval: heartbeatInterval, server_id: serverId } });
  }

  /** A DISPATCH with the next per-connection sequence number; returns that `s`. */
  dispatch(t: string, d: unknown): number {
    this.#seq += 1;
    this.send({ op: Op.DISPATCH, t, s: this.#seq, d });
    return this.#seq;
  }

  respond(id: string, result: unknown): void {
    this.send({ op: Op.RESPONSE, d: { id, ok: true, result } });
  }

  respondError(id: string, code: string, message: string): void {
    this.send({ op: Op.RESPONSE, d: { id, ok: false, error: { code, message } } });
  }

  close(code: number, reason = ''): void {
    this.#ws.close(code, reason);
  }

  /** Drops the TCP connection without a closing handshake (the client sees 1006). */
  terminate(): void {
    this.#ws.terminate();
  }

  get isOpen(): boolean {
    return this.#ws.readyState === 1;
  }
}

export interface FakeServer {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  readonly port: number;
  /** Every WebSocket connection so far, in order. */
  readonly connections: readonly PeerConnection[];
  /** The next WebSocket connection not yet taken. */
  nextConnection(timeoutMs?: number): Promise<PeerConnection>;
  /** WebSocket connections not taken by nextConnection() yet. */
  readonly untakenConnections: number;
  /** Answers HTTP requests to /api/… ; default 404. */
  onHttp: (req: HttpRequest) => HttpReply | Promise<HttpReply>;
  readonly httpRequests: readonly HttpRequest[];
  close(): Promise<void>;
}

export async function startFakeServer(): Promise<FakeServer> {
  const connections: PeerConnection[] = [];
  const inbox = new Inbox<PeerConnection>();
  const httpRequests: HttpRequest[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();

  const http: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const request: HttpRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    };
    httpRequests.push(request);
    const reply = await server.onHttp(request);
    if (reply.hang) {
      hanging.add(res);
      return;
    }
    const body =
      reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(body && typeof reply.body !== 'string' ? { 'content-type': 'application/json' } : {}),
      ...reply.headers,
    });
    res.end(body);
  });
  http.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/ws') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const peer = new PeerConnection(ws, url);
      connections.push(peer);
      inbox.push(peer);
    });
  });

  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const port = (http.address() as AddressInfo).port;

  const server: FakeServer = {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    connections,
    nextConnection: (timeoutMs = 2000) => inbox.take(() => true, timeoutMs, 'WebSocket connection'),
    get untakenConnections() {
      return inbox.pending.length;
    },
    onHttp: () => ({ status: 404, body: { code: 'not_found', message: 'no route' } }),
    httpRequests,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      for (const res of hanging) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  return server;
}
