// The WebSocket the client runs on: the standard API, as browsers, Deno, Bun and Node ≥ 22 provide
// it. On Node 20 (no global WebSocket) the `ws` package is loaded through a dynamic import, so a
// browser bundle never needs it (and `ws` maps itself to a stub for browser builds anyway).

/** A listener type that accepts both the DOM's and ws's handlers (method-style, so bivariant). */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of the standard `WebSocket` the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}

/** `new WebSocket(url)`: the global one, `ws`'s, or any compatible implementation. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export const OPEN = 1;
export const CLOSED = 3;

let cached: Promise<WebSocketConstructor> | undefined;

/** The injected constructor, else the global one, else `ws` (loaded once). */
export function resolveWebSocket(injected?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (injected) return Promise.resolve(injected);
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return Promise.resolve(global);
  cached ??= import('ws').then(
    (mod) => (mod.WebSocket ?? mod.default) as unknown as WebSocketConstructor,
    (err: unknown) => {
      cached = undefined;
      throw err;
    },
  );
  return cached;
}
