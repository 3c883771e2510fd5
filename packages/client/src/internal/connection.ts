// One WebSocket of the session and what belongs to it alone: how it authenticated, whether READY or
// RESUMED arrived, its connect timer and its heartbeat. The heartbeat's guarantee: a beat whose
// HEARTBEAT_ACK has not arrived by the next beat reports the connection dead, whatever TCP says.
import type { Logger } from '@chat/protocol';
import { CLOSED, type WebSocketLike } from './websocket.js';

/** How long `closeSocket` waits for the closing handshake before terminating the socket. */
const CLOSE_HANDSHAKE_MS = 1000;

export class Connection {
  readonly ws: WebSocketLike;
  /** What this connection sent to authenticate; null before HELLO. */
  mode: 'identify' | 'resume' | null = null;
  /** READY or RESUMED arrived. */
  established = false;
  readonly #log: Logger;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #awaitingAck = false;
  #beatSentAt = 0;

  constructor(ws: WebSocketLike, log: Logger) {
    this.ws = ws;
    this.#log = log;
  }

  /** Sends a text frame; false when the socket refused it (the close event or the heartbeat repairs that). */
  send(text: string): boolean {
    try {
      this.ws.send(text);
      return true;
    } catch (err) {
      this.#log.debug({ err }, 'WebSocket send failed');
      return false;
    }
  }

  /** Calls `onTimeout` unless `established()` comes within `ms`. */
  startConnectTimer(ms: number, onTimeout: () => void): void {
    this.#connectTimer = setTimeout(onTimeout, ms);
  }

  /** READY or RESUMED arrived: the connect timer stops. */
  markEstablished(): void {
    this.established = true;
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
  }

  /** Every `intervalMs`: `onDead()` if the last beat is still unanswered, else `beat()` (which sends one). */
  startHeartbeat(intervalMs: number, beat: () => void, onDead: () => void): void {
    this.#heartbeat = setInterval(() => {
      if (this.#awaitingAck) {
        onDead();
        return;
      }
      this.#awaitingAck = true;
      this.#beatSentAt = Date.now();
      beat();
    }, intervalMs);
  }

  /** A HEARTBEAT_ACK: returns the round trip of the last beat in ms. */
  acknowledged(): number {
    this.#awaitingAck = false;
    return Date.now() - this.#beatSentAt;
  }

  /** Stops the timers; the socket itself is left to `closeSocket`. */
  stopTimers(): void {
    clearInterval(this.#heartbeat);
    clearTimeout(this.#connectTimer);
    this.#heartbeat = undefined;
    this.#connectTimer = undefined;
  }
}

/** Closes a socket the client is done with; resolves when it reports closed (or after 1 s, terminating it). */
export function closeSocket(ws: WebSocketLike, code: number, reason: string): Promise<void> {
  ws.onopen = null;
  ws.onmessage = null;
  // Keep an error listener: `ws` throws an 'error' event that has none.
  ws.onerror = () => {};
  if (ws.readyState === CLOSED) {
    ws.onclose = null;
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      ws.onclose = null;
      resolve();
    };
    // A peer that is gone never answers the closing handshake; `ws` can drop the TCP connection.
    const timer = setTimeout(() => {
      (ws as { terminate?: () => void }).terminate?.();
      done();
    }, CLOSE_HANDSHAKE_MS);
    ws.onclose = done;
    try {
      ws.close(code, reason);
    } catch {
      done();
    }
  });
}
