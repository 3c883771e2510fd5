// A load-generator process for the Socket.IO peer: many socket.io-client 4 sockets (websocket
// transport only, one connection each: `forceNew`, no reconnection) from one source address, driven
// by the parent over the same IPC as ws-loadgen.ts (open, status, configure, track, run, progress,
// report, close) and reporting the same figures (lib/receipts.ts), so a parent treats both alike.
// A client authenticates with its JWT in the handshake's `auth`; `message.create` is an emit with an
// ack ({ok, id} or {ok: false, code}); MESSAGE_CREATE events carry the content that identifies the
// message. Requests are never retried. Socket.IO answers its server's pings by itself.
import { io, type Socket } from 'socket.io-client';
import { serveRequests } from './child.js';
import { assignChannels, clientStatus, openEach, openLoop } from './loadgen-clients.js';
import {
  beginSend,
  contentOf,
  newTracking,
  progressOf,
  recordReceipt,
  recordResponse,
  reportOf,
  type Tracking,
} from './receipts.js';

interface Client {
  /** The user's number (u<n>), written into contents to tell the sender's echo from the recipient's copy. */
  user: number;
  token: string;
  socket: Socket | undefined;
  state: 'connecting' | 'ready' | 'closed';
  channels: string[];
}

const clients: Client[] = [];
const closes: Record<string, number> = {};
const errors: Record<string, number> = {};
let tracking: Tracking | undefined;

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function sendCreate(c: Client, t: Tracking, lg: number): void {
  const { seq, now } = beginSend(t, lg);
  const channel = c.channels[Math.floor(Math.random() * c.channels.length)]!;
  c.socket!.emit(
    'message.create',
    { channel_id: channel, content: contentOf(t.tag, lg, seq, c.user, now) },
    (res: { ok?: boolean; code?: string } | undefined) => {
      // An ack from a previous step's tracking is not this step's.
      if (tracking === t) recordResponse(t, seq, res?.ok === true, res?.code);
    },
  );
}

function open(c: Client, url: string, localAddress: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = io(url, {
      transports: ['websocket'],
      auth: { token: c.token },
      forceNew: true,
      reconnection: false,
      timeout: 30_000,
      // Passed on to the ws client by engine.io-client (not in the browser-facing types).
      localAddress,
    } as Parameters<typeof io>[1]);
    c.socket = socket;
    socket.on('MESSAGE_CREATE', (m: { content?: unknown }) => {
      if (tracking && typeof m?.content === 'string') recordReceipt(tracking, m.content, c.user);
    });
    socket.once('connect', () => {
      c.state = 'ready';
      resolve();
    });
    socket.once('connect_error', (err: Error) => {
      bump(errors, err.message.slice(0, 60));
      c.state = 'closed';
      socket.close();
      resolve();
    });
    socket.on('disconnect', (reason: string) => {
      if (c.state !== 'closed') bump(closes, reason);
      c.state = 'closed';
    });
  });
}

const status = () => clientStatus(clients, closes, errors);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

serveRequests(
  async (req) => {
    switch (req.type) {
      case 'open': {
        const url = req.url as string;
        const localAddress = req.localAddress as string;
        const list = req.clients as Array<{ token: string; user: number }>;
        const concurrency = (req.concurrency as number) ?? 100;
        const started = performance.now();
        const fresh = list.map(
          (x): Client => ({ user: x.user, token: x.token, socket: undefined, state: 'connecting', channels: [] }),
        );
        clients.push(...fresh);
        await openEach(fresh, concurrency, (c) => open(c, url, localAddress));
        return { ...status(), ms: performance.now() - started };
      }
      case 'status':
        return status();
      case 'configure':
        assignChannels(clients, req.channels as string[][]);
        return null;
      case 'progress':
        return progressOf(tracking);
      case 'track':
        tracking = newTracking(req.tag as string, req.t0 as number, req.everyCopy === true);
        return null;
      case 'run': {
        // Open loop: `rate` creates per second from random ready clients, paced by a 5 ms timer.
        const t = tracking!;
        const lg = req.lg as number;
        return openLoop(t, clients, req.rate as number, req.durationMs as number, (c) => sendCreate(c, t, lg));
      }
      case 'report':
        return reportOf(tracking!, status());
      case 'close': {
        for (const c of clients) {
          c.state = 'closed';
          c.socket?.close();
        }
        const deadline = Date.now() + ((req.timeoutMs as number) ?? 15_000);
        while (Date.now() < deadline && clients.some((c) => c.socket?.io.engine?.readyState === 'open')) {
          await sleep(100);
        }
        clients.length = 0;
        return null;
      }
      default:
        throw new Error(`unknown request ${req.type}`);
    }
  },
  async () => {
    for (const c of clients) c.socket?.close();
  },
  30 * 60_000,
);
