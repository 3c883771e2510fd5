// A bare WebSocket peer for tests that must send what no well-behaved client would (bad frames,
// floods, slow reading): frames in, close code out, nothing clever.
import WebSocket from 'ws';

export class RawClient {
  readonly frames: Array<{ op: number; t?: string; s?: number; d?: any }> = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly ws: WebSocket;
  readonly #opened: Promise<void>;
  readonly #closed: Promise<number>;

  /** `localAddress`: the 127.0.0.x source address, to appear as another client address. */
  constructor(url: string, options: { paused?: boolean; localAddress?: string } = {}) {
    this.ws = new WebSocket(url, options.localAddress ? { localAddress: options.localAddress } : {});
    this.#opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.#closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve(code);
      }),
    );
    this.ws.on('message', (data) => {
      try {
        this.frames.push(JSON.parse(data.toString()));
      } catch {
        this.frames.push({ op: -1, d: data.toString() });
      }
    });
    this.ws.on('error', () => {});
    if (options.paused)
      this.ws.once('open', () => (this.ws as unknown as { _socket: { pause(): void } })._socket.pause());
  }

  static async open(url: string, localAddress?: string): Promise<RawClient> {
    const c = new RawClient(url, { localAddress });
    await c.opened();
    await c.next((f) => f.op === 10);
    return c;
  }

  opened(): Promise<void> {
    return this.#opened;
  }

  closed(timeoutMs = 10_000): Promise<number | 'open'> {
    return Promise.race([this.#closed, new Promise<'open'>((r) => setTimeout(() => r('open'), timeoutMs))]);
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value));
  }

  /** Waits for a frame matching the predicate (already received or future). */
  async next(
    pred: (f: RawClient['frames'][number]) => boolean,
    timeoutMs = 10_000,
  ): Promise<RawClient['frames'][number]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (Date.now() > deadline)
        throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async identify(token: string): Promise<any> {
    this.send({ op: 2, d: { token } });
    return (await this.next((f) => f.t === 'READY')).d;
  }

  async request(method: string, params: unknown, id = `r${Math.random().toString(36).slice(2)}`): Promise<any> {
    this.send({ op: 20, d: { id, method, params } });
    return (await this.next((f) => f.op === 21 && f.d?.id === id)).d;
  }

  close(): void {
    this.ws.close();
  }
}
