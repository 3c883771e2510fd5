// The SocketPort of a session over a uWS WebSocket: one small object per connection with two fields
// (its methods live on the prototype — no closures per socket). A socket that is already closed
// throws in uWS; here that is "false" / 0 / a no-op.
//
// Frames sent outside a cork (dispatches handed over by the router, responses after an await) are
// coalesced: they wait for the end of the current tick (or the socket's next cork() or end()) and then
// go out in one corked write per socket, in the order they were sent. A dispatch bundle gives a member several events in one tick; uncorked,
// each would be its own write system call (and its own read on the client). Frames sent inside cork()
// go out at once, so a caller that watches bufferedAmount() while it sends (the RESUME replay) sees it
// grow. The coalesced frames of one tick are not counted by bufferedAmount() until they are flushed:
// the backpressure bound is exceeded by at most one tick's frames.
import type { WebSocket } from 'uWebSockets.js';
import type { SocketPort } from './session.js';

/** Sockets holding coalesced frames, flushed together at the end of the tick. */
let waiting: UwsSocket<unknown>[] = [];
let flushScheduled = false;
/** Depth of cork() calls on the stack: inside one, frames go out at once. */
let corkDepth = 0;

function flushWaiting(): void {
  flushScheduled = false;
  const sockets = waiting;
  waiting = [];
  for (const s of sockets) s.flush();
}

export class UwsSocket<T> implements SocketPort {
  readonly #ws: WebSocket<T>;
  /** Frames waiting for the end of the tick: one string, or several in order; null when none. */
  #pending: string | string[] | null = null;

  constructor(ws: WebSocket<T>) {
    this.#ws = ws;
  }

  /** Queues a text frame (sent at once inside cork()); false if the socket is already gone. */
  send(text: string): boolean {
    if (corkDepth > 0) return this.#sendNow(text);
    const p = this.#pending;
    if (p === null) {
      this.#pending = text;
      waiting.push(this as UwsSocket<unknown>);
      if (!flushScheduled) {
        flushScheduled = true;
        queueMicrotask(flushWaiting);
      }
    } else if (typeof p === 'string') {
      this.#pending = [p, text];
    } else {
      p.push(text);
    }
    return true;
  }

  /** Sends the frames coalesced so far, in one corked write. */
  flush(): void {
    const p = this.#pending;
    if (p === null) return;
    this.#pending = null;
    if (typeof p === 'string') {
      this.#sendNow(p);
      return;
    }
    this.cork(() => {
      for (const text of p) this.#sendNow(text);
    });
  }

  /** Closes with `code` after every frame sent before it. */
  end(code: number, reason: string): void {
    this.flush();
    try {
      this.#ws.end(code, reason);
    } catch {
      // already closed
    }
  }

  bufferedAmount(): number {
    try {
      return this.#ws.getBufferedAmount();
    } catch {
      return 0;
    }
  }

  /**
   * Runs `fn` with its sends gathered into one write, after the frames coalesced so far (order is send
   * order). A closed socket: `fn` runs, its sends are no-ops.
   */
  cork(fn: () => void): void {
    this.flush();
    let ran = false;
    corkDepth++;
    try {
      this.#ws.cork(() => {
        ran = true;
        fn();
      });
    } catch (err) {
      if (ran) throw err;
      fn();
    } finally {
      corkDepth--;
    }
  }

  #sendNow(text: string): boolean {
    try {
      this.#ws.send(text, false);
      return true;
    } catch {
      return false;
    }
  }
}
