// A load-generator process for the whole-system scenarios (w1, w3): many raw WebSocket clients of
// the gateway protocol (PROTOCOL.md §5) from one source address, driven by the parent over IPC.
// It identifies them, keeps them alive with heartbeats, sends paced (open loop) or closed-loop
// message.create requests, and records send → receive latency of every DM its clients receive.
// Requests are never retried: a RESPONSE error `overloaded` is counted as refused (the gateway shed
// it, nothing was stored), which is what the overload steps measure; which requests were acked is
// kept per sequence number so that the parent can tell acked-and-lost from refused.
// Frames are matched with string operations, not JSON.parse: at 10k+ frames/s the generator must
// stay cheaper than the system it measures.
import hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { serveRequests } from './child.js';
import { epochMs, type LatencyHistogram, latencyHistogram, recordMs } from './stats.js';

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

interface Tracking {
  tag: string;
  t0: number;
  sent: number;
  respOk: number;
  respErr: Record<string, number>;
  respHist: LatencyHistogram;
  recvHist: LatencyHistogram;
  /** origin load generator → receipts per seq (capped at 255). */
  received: Map<number, Uint8Array>;
  echoes: number;
  perSecond: number[];
  sentAt: Float64Array;
  /** 1 when the request of that sequence number was acked (RESPONSE ok). */
  acked: Uint8Array;
  /** This loader's index as a sender (the `lg` of run / closedLoop), -1 before it sent. */
  origin: number;
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

function newTracking(tag: string, t0: number): Tracking {
  return {
    tag,
    t0,
    sent: 0,
    respOk: 0,
    respErr: {},
    respHist: latencyHistogram(),
    recvHist: latencyHistogram(),
    received: new Map(),
    echoes: 0,
    perSecond: [],
    sentAt: new Float64Array(1 << 16),
    acked: new Uint8Array(1 << 16),
    origin: -1,
  };
}

function contentOf(tag: string, lg: number, seq: number, user: number, sentAt: number): string {
  return `${tag}|${lg}|${seq}|${sentAt.toFixed(2)}|${user}|`.padEnd(100, 'x');
}

function sendCreate(c: Client, t: Tracking, lg: number): number {
  const seq = t.sent++;
  if (seq >= t.sentAt.length) {
    const grown = new Float64Array(t.sentAt.length * 2);
    grown.set(t.sentAt);
    t.sentAt = grown;
    const acked = new Uint8Array(grown.length);
    acked.set(t.acked);
    t.acked = acked;
  }
  t.origin = lg;
  const now = epochMs();
  t.sentAt[seq] = now;
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
  if (ok) {
    t.respOk++;
    if (seq >= 0 && seq < t.sent) {
      recordMs(t.respHist, epochMs() - t.sentAt[seq]!);
      t.acked[seq] = 1;
    }
  } else {
    const m = /"code":"([^"]+)"/.exec(text);
    bump(t.respErr, m?.[1] ?? 'unknown');
  }
  // A refused message never echoes: move on in either mode.
  if (closedLoop && c.busy && c.waitingSeq === seq && (closedLoop.on === 'response' || !ok)) next(c, t);
}

function onMessageCreate(c: Client, text: string): void {
  const t = tracking;
  if (!t) return;
  const at = text.indexOf('"content":"');
  if (at < 0) return;
  const start = at + 11;
  if (!text.startsWith(`${t.tag}|`, start)) return;
  const end = text.indexOf('"', start);
  const [, lgText, seqText, sentText, userText] = text.slice(start, end).split('|', 5);
  if (Number(userText) === c.user) {
    t.echoes++;
    if (closedLoop?.on === 'echo' && c.busy && Number(lgText) === closedLoop.lg && Number(seqText) === c.waitingSeq) {
      next(c, t);
    }
    return;
  }
  const now = epochMs();
  const origin = Number(lgText);
  const seq = Number(seqText);
  let bits = t.received.get(origin);
  if (!bits || seq >= bits.length) {
    const grown = new Uint8Array(Math.max(1 << 16, 2 ** Math.ceil(Math.log2(seq + 1))));
    if (bits) grown.set(bits);
    bits = grown;
    t.received.set(origin, bits);
  }
  if (bits[seq]! < 255) bits[seq]! += 1;
  if (bits[seq] === 1) {
    recordMs(t.recvHist, now - Number(sentText));
    const second = Math.floor((now - t.t0) / 1000);
    if (second >= 0 && second < 3600) {
      while (t.perSecond.length <= second) t.perSecond.push(0);
      t.perSecond[second]! += 1;
    }
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
    const ws = new WebSocket(url, { localAddress, perMessageDeflate: false, handshakeTimeout: 30_000 });
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

function status() {
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
        let next = 0;
        await Promise.all(
          Array.from({ length: Math.min(concurrency, fresh.length) }, async () => {
            while (next < fresh.length) await open(fresh[next++]!, url, localAddress);
          }),
        );
        return { ...status(), ms: performance.now() - started };
      }
      case 'status':
        return status();
      case 'configure': {
        const channels = req.channels as string[][];
        channels.forEach((list, i) => {
          if (clients[i]) clients[i].channels = list;
        });
        return null;
      }
      case 'progress': {
        // Requests of the tracked tag still unanswered (the gateways may be working through a backlog).
        const t = tracking;
        if (!t) return { sent: 0, answered: 0 };
        return { sent: t.sent, answered: t.respOk + Object.values(t.respErr).reduce((a, b) => a + b, 0) };
      }
      case 'track':
        tracking = newTracking(req.tag as string, req.t0 as number);
        return null;
      case 'run': {
        // Open loop: `rate` creates per second from random ready clients, paced by a 5 ms timer.
        const t = tracking!;
        const rate = req.rate as number;
        const durationMs = req.durationMs as number;
        const lg = req.lg as number;
        const senders = clients.filter((c) => c.state === 'ready' && c.channels.length > 0);
        if (senders.length === 0) throw new Error('no ready client with channels');
        const started = performance.now();
        const total = Math.round((rate * durationMs) / 1000);
        let maxBehind = 0;
        await new Promise<void>((resolve) => {
          const tick = () => {
            const elapsed = performance.now() - started;
            const due = Math.min(total, Math.floor((elapsed * rate) / 1000));
            maxBehind = Math.max(maxBehind, due - t.sent);
            while (t.sent < due) {
              const c = senders[Math.floor(Math.random() * senders.length)]!;
              if (c.state === 'ready') sendCreate(c, t, lg);
              else t.sent++; // a closed socket: count it as sent (and lost) rather than bunch the rest
            }
            if (t.sent >= total) {
              clearInterval(timer);
              resolve();
            }
          };
          const timer = setInterval(tick, 5);
        });
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
      case 'report': {
        const t = tracking!;
        return {
          tag: t.tag,
          sent: t.sent,
          respOk: t.respOk,
          respErr: t.respErr,
          respHist: hdr.encodeIntoCompressedBase64(t.respHist),
          recvHist: hdr.encodeIntoCompressedBase64(t.recvHist),
          received: [...t.received.entries()],
          origin: t.origin,
          acked: t.acked.slice(0, t.sent),
          echoes: t.echoes,
          perSecond: t.perSecond,
          status: status(),
        };
      }
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
