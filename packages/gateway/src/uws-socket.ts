// The SocketPort of a session over a uWS WebSocket: one small object per connection with one field
// (its methods live on the prototype — no closures per socket). A socket that is already closed
// throws in uWS; here that is "false" / 0 / a no-op.
import type { WebSocket } from 'uWebSockets.js';
import type { SocketPort } from './session.js';

export class UwsSocket<T> implements SocketPort {
  readonly #ws: WebSocket<T>;

  constructor(ws: WebSocket<T>) {
    this.#ws = ws;
  }

  send(text: string): boolean {
    try {
      this.#ws.send(text, false);
      return true;
    } catch {
      return false;
    }
  }

  end(code: number, reason: string): void {
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

  cork(fn: () => void): void {
    try {
      this.#ws.cork(fn);
    } catch {
      fn();
    }
  }
}
