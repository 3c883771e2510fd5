// A load-generator process of W4 (reconnect storm), driven by bench/w4.ts over IPC: WebSocket clients
// of one group, from one source address, each with a list of gateway URLs (its own first). A client
// whose connection is lost (1006) or whose attempt fails before HELLO fails over to the NEXT URL of its
// list; one the gateway closed with a code, or that the parent dropped, comes back to the same URL (a
// dropped one after the outage). Every reconnect RESUMEs from the last message id the client saw
// (IDENTIFY only when it never saw one). Reconnects wait the SDK's backoff (packages/client:
// 250 ms × 2^attempt, ±20% jitter, at most 10 s). For each storm the parent arms a probe tag and says
// which clients are affected; this process records when each client got RESUMED/READY again and when
// the probe message reached it (live, or inside the RESUME replay).
import { serveRequests } from './child.js';
import { epochMs } from './stats.js';
import { closeAll, newClient, openClient, type StormClient, startHeartbeats } from './storm-socket.js';

const BACKOFF_INITIAL_MS = 250;
const BACKOFF_MAX_MS = 10_000;
const BACKOFF_JITTER = 0.2;

interface Storm {
  tag: string;
  /** Epoch ms the storm's clock starts from. */
  t0: number;
  affected: Set<StormClient>;
  /** Per client: epoch ms of READY/RESUMED after t0, and of the probe's arrival. */
  establishedAt: Map<StormClient, number>;
  probeAt: Map<StormClient, number>;
  probeViaReplay: number;
  /** Per established client: reconnect attempt opened → HELLO, and HELLO → READY/RESUMED (ms). */
  toHello: number[];
  helloToEstablished: number[];
  resumed: number;
  identified: number;
  replayedEvents: number;
  attempts: number;
  failedAttempts: number;
  /** Closes during the storm by `<code> <reason>` (the gateway's close reason says why it refused). */
  closeReasons: Record<string, number>;
}

const clients: StormClient[] = [];
const attempt = new Map<StormClient, number>();
/** Per client: when its current connection attempt was opened, and when its HELLO came (epoch ms). */
const openedAt = new Map<StormClient, number>();
const helloAt = new Map<StormClient, number>();
const closes: Record<string, number> = {};
const errors: Record<string, number> = {};
let localAddress = '127.0.0.1';
let stopping = false;
let storm: Storm | undefined;
/** Clients whose first handshake is under way (resolved on READY or a failed attempt). */
const pendingOpen = new Map<StormClient, () => void>();
/** The parent dropped these: reconnect to the same URL after `outageUntil`. */
const dropped = new Set<StormClient>();
let outageUntil = 0;
let heartbeat: NodeJS.Timeout | undefined;

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function backoffMs(n: number): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** n);
  return base * (1 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * Math.random());
}

function connect(c: StormClient): void {
  if (storm) storm.attempts++;
  openedAt.set(c, epochMs());
  openClient(c, localAddress, events);
}

const events = {
  message(c: StormClient, text: string): void {
    const s = storm;
    if (!s || s.probeAt.has(c)) return;
    const at = text.indexOf('"content":"');
    if (at < 0 || !text.startsWith(`${s.tag}|`, at + 11)) return;
    s.probeAt.set(c, epochMs());
    // Replayed frames come before RESUMED: the client is not ready yet.
    if (c.state !== 'ready') s.probeViaReplay++;
  },
  hello(c: StormClient): void {
    helloAt.set(c, epochMs());
  },
  established(c: StormClient, kind: 'READY' | 'RESUMED', replayed: number): void {
    attempt.set(c, 0);
    pendingOpen.get(c)?.();
    pendingOpen.delete(c);
    const s = storm;
    if (!s) return;
    const now = epochMs();
    if (!s.establishedAt.has(c)) {
      s.establishedAt.set(c, now);
      const h = helloAt.get(c) ?? now;
      s.toHello.push(h - (openedAt.get(c) ?? h));
      s.helloToEstablished.push(now - h);
    }
    if (kind === 'RESUMED') s.resumed++;
    else s.identified++;
    s.replayedEvents += replayed;
  },
  closed(c: StormClient, code: number, reason: string): void {
    bump(closes, reason ? `${code} ${reason}` : String(code));
    if (storm) bump(storm.closeReasons, reason ? `${code} ${reason}` : String(code));
    const wasPending = pendingOpen.get(c);
    if (wasPending) {
      // The first connection failed: the parent counts it; no reconnect during set-up.
      pendingOpen.delete(c);
      wasPending();
      return;
    }
    if (stopping) return;
    const n = attempt.get(c) ?? 0;
    attempt.set(c, n + 1);
    if (storm && n > 0) storm.failedAttempts++;
    let delay = backoffMs(n);
    if (dropped.has(c)) {
      dropped.delete(c);
      delay += Math.max(0, outageUntil - Date.now());
    } else if (code === 1006 || (helloAt.get(c) ?? 0) < (openedAt.get(c) ?? 0)) {
      // The gateway vanished (no close frame) or this attempt never got its HELLO: the next gateway
      // of the list, as nginx's `proxy_next_upstream error` moves on from a dead upstream.
      c.urlIndex = (c.urlIndex + 1) % c.urls.length;
    }
    // Else the gateway closed the session itself (4000 unavailable, 4008, 4009, …): the same one again,
    // as nginx's `hash $arg_slot consistent` would send it there.
    setTimeout(() => {
      if (!stopping) connect(c);
    }, delay);
  },
  error(_c: StormClient, code: string): void {
    bump(errors, code);
  },
};

function status() {
  let ready = 0;
  const perUrl: Record<string, number> = {};
  for (const c of clients) {
    if (c.state === 'ready') {
      ready++;
      bump(perUrl, c.urls[c.urlIndex]!);
    }
  }
  return { total: clients.length, ready, perUrl, closes, errors };
}

/** True when every affected client is established again and every client has the probe. */
function complete(s: Storm): boolean {
  for (const c of s.affected) if (!s.establishedAt.has(c)) return false;
  return s.probeAt.size >= clients.length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

serveRequests(
  async (req) => {
    switch (req.type) {
      case 'open': {
        localAddress = req.localAddress as string;
        const list = req.clients as Array<{ user: number; token: string; urls: string[]; urlIndex: number }>;
        const fresh = list.map((x) => newClient(x.user, x.token, x.urls, x.urlIndex));
        clients.push(...fresh);
        heartbeat ??= startHeartbeats(clients);
        const started = performance.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: Math.min((req.concurrency as number) ?? 100, fresh.length) }, async () => {
            while (next < fresh.length) {
              const c = fresh[next++]!;
              await new Promise<void>((resolve) => {
                pendingOpen.set(c, resolve);
                connect(c);
              });
            }
          }),
        );
        return { ...status(), ms: performance.now() - started };
      }
      case 'status':
        return status();
      case 'arm': {
        // A storm starts. Affected: 'all' clients, 'none' (a probe only), or the clients of one gateway URL.
        const affected = req.affected as string;
        storm = {
          tag: req.tag as string,
          t0: req.t0 as number,
          affected: new Set(
            affected === 'none' ? [] : clients.filter((c) => affected === 'all' || c.urls[c.urlIndex] === affected),
          ),
          establishedAt: new Map(),
          probeAt: new Map(),
          probeViaReplay: 0,
          toHello: [],
          helloToEstablished: [],
          resumed: 0,
          identified: 0,
          replayedEvents: 0,
          attempts: 0,
          failedAttempts: 0,
          closeReasons: {},
        };
        return { affected: storm.affected.size };
      }
      case 'rebase':
        // The storm's real start (the fault), known only once it happened.
        storm!.t0 = req.t0 as number;
        return null;
      case 'drop': {
        // Every socket goes away at once (terminate: no close handshake, as a network drop);
        // each client reconnects to the same gateway once the outage is over.
        outageUntil = Date.now() + (req.outageMs as number);
        for (const c of clients) {
          dropped.add(c);
          c.ws?.terminate();
        }
        return null;
      }
      case 'wait': {
        // Until the storm is over here (or the time limit); then per-client times from t0.
        const s = storm!;
        const deadline = Date.now() + (req.timeoutMs as number);
        while (!complete(s) && Date.now() < deadline) await sleep(50);
        const affectedDone: number[] = [];
        let affectedMissing = 0;
        for (const c of s.affected) {
          const e = s.establishedAt.get(c);
          const p = s.probeAt.get(c);
          if (e === undefined || p === undefined) affectedMissing++;
          else affectedDone.push(Math.max(e, p) - s.t0);
        }
        const probeTimes = [...s.probeAt.values()].map((t) => t - s.t0);
        return {
          complete: complete(s),
          clients: clients.length,
          affected: s.affected.size,
          affectedDone,
          affectedMissing,
          probeReceived: s.probeAt.size,
          probeLastMs: probeTimes.length > 0 ? Math.max(...probeTimes) : Number.NaN,
          probeViaReplay: s.probeViaReplay,
          toHello: s.toHello,
          helloToEstablished: s.helloToEstablished,
          establishedMs: [...s.establishedAt.values()].map((t) => t - s.t0),
          probeMs: probeTimes,
          resumed: s.resumed,
          identified: s.identified,
          replayedEvents: s.replayedEvents,
          attempts: s.attempts,
          failedAttempts: s.failedAttempts,
          closeReasons: s.closeReasons,
          status: status(),
        };
      }
      case 'close':
        stopping = true;
        await closeAll(clients, (req.timeoutMs as number) ?? 15_000);
        clients.length = 0;
        return null;
      default:
        throw new Error(`unknown request ${req.type}`);
    }
  },
  async () => {
    stopping = true;
    if (heartbeat) clearInterval(heartbeat);
    for (const c of clients) c.ws?.terminate();
  },
  60 * 60_000,
);
