// A load-generator process of W2 (group fan-out), driven by bench/w2.ts over IPC: WebSocket clients
// that are all members of one group, from one source address. Some of them (the senders) send
// message.create into the group at a paced rate (open loop, 5 ms timer); every client records each
// copy it receives: per message the number of member copies and the time of the last one (so that the
// parent can tell when the LAST member got it), per copy the send → receive latency (HDR), and copies
// a member got twice. Message k of a step carries `tag|k|sentAt|` in its content.
import hdr from 'hdr-histogram-js';
import { serveRequests } from './child.js';
import { epochMs, type LatencyHistogram, latencyHistogram, recordMs } from './stats.js';
import { closeAll, newClient, openClient, type StormClient, startHeartbeats } from './storm-socket.js';

/** The most messages one step may send (bounds every per-message array). */
const MAX_MESSAGES = 1 << 17;

interface Tracking {
  tag: string;
  t0: number;
  sent: number;
  sentAt: Float64Array;
  respOk: number;
  respErr: Record<string, number>;
  /** Per message: 1 when its request was acked (RESPONSE ok: stored durably), 2 when refused or failed. */
  answer: Uint8Array;
  /** Per message: member copies received here, and the latest receive time (epoch ms). */
  copies: Uint32Array;
  lastAt: Float64Array;
  /** Per client: 1 for each message it received (a second copy is a duplicate). */
  seen: Map<number, Uint8Array>;
  duplicates: number;
  /** MESSAGE_CREATE frames of this tag, duplicates included. */
  frames: number;
  perDelivery: LatencyHistogram;
  /** Unique copies received per second since t0. */
  perSecond: number[];
}

const clients: StormClient[] = [];
const closes: Record<string, number> = {};
const errors: Record<string, number> = {};
let channelId = '';
let senders: StormClient[] = [];
let tracking: Tracking | undefined;
let heartbeat: NodeJS.Timeout | undefined;

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function onMessage(c: StormClient, text: string): void {
  const t = tracking;
  if (!t) return;
  const at = text.indexOf('"content":"');
  if (at < 0 || !text.startsWith(`${t.tag}|`, at + 11)) return;
  const [, kText, sentText] = text.slice(at + 11, text.indexOf('"', at + 11)).split('|', 3);
  const k = Number(kText);
  if (!Number.isInteger(k) || k < 0 || k >= MAX_MESSAGES) return;
  t.frames++;
  let seen = t.seen.get(c.user);
  if (!seen || k >= seen.length) {
    const grown = new Uint8Array(Math.min(MAX_MESSAGES, Math.max(1024, 2 ** Math.ceil(Math.log2(k + 1)))));
    if (seen) grown.set(seen);
    seen = grown;
    t.seen.set(c.user, seen);
  }
  if (seen[k]) {
    t.duplicates++;
    return;
  }
  seen[k] = 1;
  const now = epochMs();
  recordMs(t.perDelivery, now - Number(sentText));
  t.copies[k]! += 1;
  if (now > t.lastAt[k]!) t.lastAt[k] = now;
  const second = Math.floor((now - t.t0) / 1000);
  if (second >= 0 && second < 3600) {
    while (t.perSecond.length <= second) t.perSecond.push(0);
    t.perSecond[second]! += 1;
  }
}

function onResponse(text: string): void {
  const t = tracking;
  if (!t) return;
  const idAt = text.indexOf('"id":"');
  const k = idAt < 0 ? -1 : Number(text.slice(idAt + 6, text.indexOf('"', idAt + 6)));
  const ok = text.includes('"ok":true');
  if (ok) t.respOk++;
  else bump(t.respErr, /"code":"([^"]+)"/.exec(text)?.[1] ?? 'unknown');
  if (Number.isInteger(k) && k >= 0 && k < t.sent) t.answer[k] = ok ? 1 : 2;
}

function status() {
  const ready = clients.filter((c) => c.state === 'ready').length;
  return { total: clients.length, ready, closed: clients.length - ready, closes, errors };
}

/** Clients whose handshake is under way: resolved on READY or on the close of a failed attempt. */
const pending = new Map<StormClient, () => void>();

function settle(c: StormClient): void {
  pending.get(c)?.();
  pending.delete(c);
}

const events = {
  message: onMessage,
  response: (_c: StormClient, text: string) => onResponse(text),
  established: settle,
  closed: (c: StormClient, code: number) => {
    bump(closes, String(code));
    settle(c);
  },
  error: (_c: StormClient, code: string) => bump(errors, code),
};

/** Opens `list` with at most `concurrency` handshakes at once; resolves when each is ready or failed. */
async function openAll(
  url: string,
  localAddress: string,
  list: Array<{ token: string; user: number }>,
  concurrency: number,
) {
  const fresh = list.map((x) => newClient(x.user, x.token, [url]));
  clients.push(...fresh);
  heartbeat ??= startHeartbeats(clients);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, fresh.length) }, async () => {
      while (next < fresh.length) {
        const c = fresh[next++]!;
        await new Promise<void>((resolve) => {
          pending.set(c, resolve);
          openClient(c, localAddress, events);
        });
      }
    }),
  );
}

function send(c: StormClient, t: Tracking): void {
  const k = t.sent++;
  const now = epochMs();
  t.sentAt[k] = now;
  const content = `${t.tag}|${k}|${now.toFixed(2)}|`.padEnd(100, 'x');
  c.ws!.send(
    `{"op":20,"d":{"id":"${k}","method":"message.create","params":{"channel_id":"${channelId}","content":"${content}"}}}`,
  );
}

serveRequests(
  async (req) => {
    switch (req.type) {
      case 'open': {
        const started = performance.now();
        await openAll(
          req.url as string,
          req.localAddress as string,
          req.clients as Array<{ token: string; user: number }>,
          (req.concurrency as number) ?? 100,
        );
        return { ...status(), ms: performance.now() - started };
      }
      case 'configure': {
        channelId = req.channel as string;
        const senderUsers = new Set(req.senders as number[]);
        senders = clients.filter((c) => senderUsers.has(c.user));
        return { senders: senders.length };
      }
      case 'status':
        return status();
      case 'track':
        tracking = {
          tag: req.tag as string,
          t0: req.t0 as number,
          sent: 0,
          sentAt: new Float64Array(MAX_MESSAGES),
          respOk: 0,
          respErr: {},
          answer: new Uint8Array(MAX_MESSAGES),
          copies: new Uint32Array(MAX_MESSAGES),
          lastAt: new Float64Array(MAX_MESSAGES),
          seen: new Map(),
          duplicates: 0,
          frames: 0,
          perDelivery: latencyHistogram(),
          perSecond: [],
        };
        return null;
      case 'run': {
        // Open loop: `rate` messages per second from the senders in turn, paced by a 5 ms timer.
        const t = tracking!;
        const rate = req.rate as number;
        const total = Math.min(MAX_MESSAGES, Math.round((rate * (req.durationMs as number)) / 1000));
        if (senders.length === 0) throw new Error('this load generator has no sender');
        const started = performance.now();
        let skipped = 0;
        await new Promise<void>((resolve) => {
          const timer = setInterval(() => {
            const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000));
            while (t.sent < due) {
              const c = senders[t.sent % senders.length]!;
              if (c.state === 'ready') send(c, t);
              else {
                t.sentAt[t.sent++] = epochMs(); // a closed sender: counted as sent (and lost)
                skipped++;
              }
            }
            if (t.sent >= total) {
              clearInterval(timer);
              resolve();
            }
          }, 5);
        });
        return { sent: t.sent, skipped, ms: performance.now() - started };
      }
      case 'report': {
        const t = tracking!;
        const n = Math.max(t.sent, req.messages as number);
        return {
          sent: t.sent,
          sentAt: t.sentAt.slice(0, t.sent),
          respOk: t.respOk,
          respErr: t.respErr,
          answer: t.answer.slice(0, t.sent),
          copies: t.copies.slice(0, n),
          lastAt: t.lastAt.slice(0, n),
          duplicates: t.duplicates,
          frames: t.frames,
          perDelivery: hdr.encodeIntoCompressedBase64(t.perDelivery),
          perSecond: t.perSecond,
          status: status(),
        };
      }
      case 'close':
        await closeAll(clients, (req.timeoutMs as number) ?? 15_000);
        clients.length = 0;
        return null;
      default:
        throw new Error(`unknown request ${req.type}`);
    }
  },
  async () => {
    if (heartbeat) clearInterval(heartbeat);
    for (const c of clients) c.ws?.terminate();
  },
  30 * 60_000,
);
