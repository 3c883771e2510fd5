// A load-generator process for the whole-system scenarios (w1, w3): many raw WebSocket clients of
// the gateway protocol (docs/protocol.md §5) from one source address, driven by the parent over IPC.
// It identifies them, keeps them alive with heartbeats, sends paced (open loop) or closed-loop
// message.create requests, and records send → receive latency of every DM its clients receive.
// Requests are never retried: a RESPONSE error `overloaded` is counted as refused (the gateway shed
// it, nothing was stored), which is what the overload steps measure (in the closed loop the client's
// next message waits for the refusal's `retry_after_ms`); which requests were acked is
// kept per sequence number so that the parent can tell acked-and-lost from refused.
// Frames are matched with string operations, not JSON.parse: at 10k+ frames/s the generator must
// stay cheaper than the system it measures. The accounting (receipts.ts) and client bookkeeping
// (loadgen-clients.ts) are shared with socketio-loadgen.ts, so both report the same figures.
import WebSocket from 'ws';
import { serveRequests } from './child.js';
import { assignChannels, clientStatus, openEach, openLoop } from './loadgen-clients.js';
import { loadgenSocketOptions } from './loadgen-socket-options.js';
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
  index: number;
  /** The user's number (u<n>), written into contents to tell the sender's echo from the recipient's copy. */
  user: number;
  token: string;
  ws: WebSocket | undefined;
  state: 'connecting' | 'hello' | 'ready' | 'closed';
  nextHeartbeatAt: number;
  channels: string[];
  /** Closed loop: a message is outstanding (until its response, or its echo through the whole path). */
  busy: boolean;
  waitingSeq: number;
}

const clients: Client[] = [];
const closes: Record<string, number> = {};
const errors: Record<string, number> = {};
let heartbeatMs = 30_000;
let tracking: Tracking | undefined;
/** Closed loop: each client sends its next message on the previous one's response or echo. */
let closedLoop: { lg: number; until: number; on: 'response' | 'echo' } | undefined;
let heartbeatTimer: NodeJS.Timeout | undefined;

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function sendCreate(c: Client, t: Tracking, lg: number): number {
  const { seq, now } = beginSend(t, lg);
  const channel = c.channels[Math.floor(Math.random() * c.channels.length)]!;
  c.ws!.send(
    `{"op":20,"d":{"id":"${seq}","method":"message.create","params":{"channel_id":"${channel}","content":"${contentOf(t.tag, lg, seq, c.user, now)}"}}}`,
  );
  return seq;
}

/** Closed loop: the client's outstanding message is done; send the next while the loop runs. */
function next(c: Client, t: Tracking): void {
  c.busy = false;
  if (closedLoop && performance.now() < closedLoop.until && c.state === 'ready') {
    c.busy = true;
    c.waitingSeq = sendCreate(c, t, closedLoop.lg);
  }
}

function onResponse(c: Client, text: string): void {
  const t = tracking;
  if (!t) return;
  const idAt = text.indexOf('"id":"');
  if (idAt < 0) return;
  const seq = Number(text.slice(idAt + 6, text.indexOf('"', idAt + 6)));
  const ok = text.includes('"ok":true');
  recordResponse(t, seq, ok, ok ? undefined : /"code":"([^"]+)"/.exec(text)?.[1]);
  if (!closedLoop || !c.busy || c.waitingSeq !== seq) return;
  if (ok) {
    if (closedLoop.on === 'response') next(c, t);
    return;
  }
  // A refused message never echoes: move on in either mode — after the refusal's retry hint, as a
  // client of the protocol would (docs/protocol.md §7), so a closed loop does not hammer a shedding gateway.
  const retryAfterMs = Number(/"retry_after_ms":(\d+)/.exec(text)?.[1] ?? 0);
  if (retryAfterMs > 0) setTimeout(() => next(c, t), retryAfterMs);
  else next(c, t);
}

function onMessageCreate(c: Client, text: string): void {
  const t = tracking;
  if (!t) return;
  const at = text.indexOf('"content":"');
  if (at < 0) return;
  const start = at + 11;
  const r = recordReceipt(t, text.slice(start, text.indexOf('"', start)), c.user);
  if (r.kind === 'echo' && closedLoop?.on === 'echo' && c.busy && r.lg === closedLoop.lg && r.seq === c.waitingSeq) {
    next(c, t);
  }
}

function onFrame(c: Client, text: string): void {
  if (text.startsWith('{"op":0,"t":"MESSAGE_CREATE"')) {
    onMessageCreate(c, text);
    return;
  }
  if (text.startsWith('{"op":21')) {
    onResponse(c, text);
    return;
  }
  if (text.startsWith('{"op":10')) {
    const m = /"heartbeat_interval":(\d+)/.exec(text);
    if (m) heartbeatMs = Number(m[1]);
    c.state = 'hello';
    c.ws!.send(JSON.stringify({ op: 2, d: { token: c.token } }));
    return;
  }
  if (text.startsWith('{"op":0,"t":"READY"')) {
    c.state = 'ready';
    // Spread heartbeats over the interval, well inside the two-interval deadline.
    c.nextHeartbeatAt = Date.now() + heartbeatMs * (0.3 + 0.5 * Math.random());
  }
}

function open(c: Client, url: string, localAddress: string): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const done = () => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    const ws = new WebSocket(url, loadgenSocketOptions(localAddress));
    c.ws = ws;
    c.state = 'connecting';
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const text = data.toString();
      const before = c.state;
      onFrame(c, text);
      if (before !== 'ready' && c.state === 'ready') done();
    });
    ws.on('error', (err: Error & { code?: string }) => {
      bump(errors, err.code ?? err.message.slice(0, 60));
      done();
    });
    ws.on('close', (code: number) => {
      if (c.state !== 'closed') bump(closes, String(code));
      c.state = 'closed';
      c.busy = false;
      done();
    });
  });
}

function startHeartbeats(): void {
  heartbeatTimer ??= setInterval(() => {
    const now = Date.now();
    for (const c of clients) {
      if (c.state === 'ready' && now >= c.nextHeartbeatAt) {
        c.nextHeartbeatAt = now + heartbeatMs * 0.8;
        c.ws!.send('{"op":1,"d":null}');
      }
    }
  }, 1000);
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
          (x): Client => ({
            index: clients.length,
            user: x.user,
            token: x.token,
            ws: undefined,
            state: 'connecting',
            nextHeartbeatAt: 0,
            channels: [],
            busy: false,
            waitingSeq: -1,
          }),
        );
        for (const c of fresh) {
          c.index = clients.length;
          clients.push(c);
        }
        startHeartbeats();
        await openEach(fresh, concurrency, (c) => open(c, url, localAddress));
        return { ...status(), ms: performance.now() - started };
      }
      case 'status':
        return status();
      case 'configure':
        assignChannels(clients, req.channels as string[][]);
        return null;
      case 'progress':
        // Requests of the tracked tag still unanswered (the gateways may be working through a backlog).
        return progressOf(tracking);
      case 'track':
        tracking = newTracking(req.tag as string, req.t0 as number, req.everyCopy === true, req.bySendSecond === true);
        return null;
      case 'run': {
        // Open loop: `rate` creates per second from random ready clients, paced by a 5 ms timer; or
        // `phases`, one rate after the other without a pause, in the same step.
        const t = tracking!;
        const lg = req.lg as number;
        const phases = (req.phases as Array<{ rate: number; durationMs: number }> | undefined) ?? [
          { rate: req.rate as number, durationMs: req.durationMs as number },
        ];
        const started = performance.now();
        let maxBehind = 0;
        for (const p of phases) {
          const r = await openLoop(t, clients, p.rate, p.durationMs, (c) => sendCreate(c, t, lg));
          maxBehind = Math.max(maxBehind, r.maxBehind);
        }
        return { sent: t.sent, ms: performance.now() - started, maxBehind };
      }
      case 'closedLoop': {
        const t = tracking!;
        const lg = req.lg as number;
        const durationMs = req.durationMs as number;
        const started = performance.now();
        closedLoop = { lg, until: started + durationMs, on: (req.on as 'response' | 'echo') ?? 'echo' };
        for (const c of clients) {
          if (c.state === 'ready' && c.channels.length > 0) {
            c.busy = true;
            c.waitingSeq = sendCreate(c, t, lg);
          }
        }
        await sleep(durationMs);
        closedLoop = undefined;
        for (const c of clients) c.busy = false;
        return { sent: t.sent, ms: performance.now() - started };
      }
      case 'report':
        return reportOf(tracking!, status());
      case 'close': {
        for (const c of clients) {
          if (c.state !== 'closed') {
            c.state = 'closed';
            c.ws?.close(1000, 'bench done');
          }
        }
        const deadline = Date.now() + ((req.timeoutMs as number) ?? 15_000);
        while (Date.now() < deadline && clients.some((c) => c.ws && c.ws.readyState !== WebSocket.CLOSED)) {
          await sleep(100);
        }
        for (const c of clients) if (c.ws && c.ws.readyState !== WebSocket.CLOSED) c.ws.terminate();
        clients.length = 0;
        return null;
      }
      default:
        throw new Error(`unknown request ${req.type}`);
    }
  },
  async () => {
    if (heartbeatTimer) clearInterval(heartbeatTimer);
    for (const c of clients) c.ws?.terminate();
  },
  30 * 60_000,
);
