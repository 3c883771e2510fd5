// A gateway process for the dispatch benchmark: one router with a serverId, its users attached,
// consuming its queue and counting what arrives. Driven by the parent over IPC (fork, advanced
// serialization); exits when the parent goes away or after a hard time limit.
import { createRouter, type Granularity, type Router } from '@chat/router';
import hdr from 'hdr-histogram-js';
import { epochMs, latencyHistogram, recordMs } from './stats.js';

/** Parent → worker. Every request carries an id; the reply echoes it. */
export type WorkerRequest =
  | {
      id: number;
      type: 'start';
      url: string;
      prefix: string;
      serverId: string;
      granularity: Granularity;
      users: string[];
    }
  /** Starts counting envelopes whose `data.tag` is `tag`, with `data.seq` in 0..count-1. */
  | { id: number; type: 'phase'; tag: string; count: number }
  | { id: number; type: 'progress' }
  | { id: number; type: 'report' }
  | { id: number; type: 'stop' };

export interface StartedReply {
  pid: number;
  attachMs: number;
  boundKeys: number;
}

export interface ProgressReply {
  received: number;
  /** Epoch ms (performance.timeOrigin + now) of the last counted delivery, 0 if none. */
  lastAt: number;
}

export interface ReportReply extends ProgressReply {
  tag: string;
  firstAt: number;
  /** Envelopes of another tag or out of range (left over from an earlier phase, or not ours). */
  stray: number;
  /** Copies received per seq. */
  copies: Uint16Array;
  /** Publish → receive latency histogram (µs), hdr compressed base64. */
  latency: string;
}

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** The payload of every benchmark dispatch (`envelope.data`). */
export interface DispatchData {
  channel_id: string;
  user_id: string;
  timestamp: number;
  tag: string;
  seq: number;
  /** Epoch ms at publish. */
  sentAt: number;
}

const HARD_LIMIT_MS = 20 * 60_000;

let router: Router | undefined;
let tag = '';
let copies = new Uint16Array(0);
let received = 0;
let stray = 0;
let firstAt = 0;
let lastAt = 0;
let hist = latencyHistogram();

function onEnvelope(data: DispatchData): void {
  if (data.tag !== tag || !(data.seq >= 0 && data.seq < copies.length)) {
    stray++;
    return;
  }
  const now = epochMs();
  copies[data.seq]! += 1;
  received++;
  if (firstAt === 0) firstAt = now;
  lastAt = now;
  recordMs(hist, now - data.sentAt);
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.type) {
    case 'start': {
      router = createRouter({
        url: req.url,
        prefix: req.prefix,
        serverId: req.serverId,
        granularity: req.granularity,
        connectionName: `${req.prefix}${req.serverId}`,
      });
      await router.ready(30_000);
      await router.consume((envelope) => onEnvelope(envelope.data as DispatchData));
      const started = performance.now();
      await Promise.all(req.users.map((u) => router!.attach(u)));
      return {
        pid: process.pid,
        attachMs: performance.now() - started,
        boundKeys: router.stats().boundKeys,
      } satisfies StartedReply;
    }
    case 'phase':
      tag = req.tag;
      copies = new Uint16Array(req.count);
      received = 0;
      stray = 0;
      firstAt = 0;
      lastAt = 0;
      hist = latencyHistogram();
      return null;
    case 'progress':
      return { received, lastAt } satisfies ProgressReply;
    case 'report':
      return {
        tag,
        received,
        lastAt,
        firstAt,
        stray,
        copies,
        latency: hdr.encodeIntoCompressedBase64(hist),
      } satisfies ReportReply;
    case 'stop':
      await router?.close();
      router = undefined;
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (value) => process.send?.({ id: req.id, ok: true, value } satisfies WorkerReply),
    (err: unknown) => process.send?.({ id: req.id, ok: false, error: String((err as Error)?.stack ?? err) }),
  );
});
// The parent is gone (crashed or killed): leave, the broker drops our connection and queue.
process.on('disconnect', () => process.exit(1));
setTimeout(() => process.exit(2), HARD_LIMIT_MS).unref();
