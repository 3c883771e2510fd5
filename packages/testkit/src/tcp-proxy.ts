// A TCP proxy on loopback that a test can cut and restore, or slow down: the way to make a dependency
// "unreachable" or "far away" for a while without stopping it (works the same for a real MongoDB and
// the stand-in).
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { forwardWithDelay } from './delayed-forward.js';

export interface TcpProxy {
  readonly port: number;
  /** Rewrites a URL's host:port to go through the proxy (`mongodb://127.0.0.1:1234/…` → proxy port). */
  wrap(url: string): string;
  /** Destroys every open connection and refuses new ones (reset) until restore(). */
  cut(): void;
  restore(): void;
  readonly isCut: boolean;
  /**
   * Delays every byte by `ms` in each direction from now on (0: no delay), on open and new
   * connections alike; order is kept and nothing is dropped (delayed bytes wait in a bounded buffer).
   */
  delay(ms: number): void;
  readonly delayMs: number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  let cut = false;
  let delayMs = 0;
  const currentDelay = () => delayMs;
  const server = createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    forwardWithDelay(client, upstream, currentDelay);
    forwardWithDelay(upstream, client, currentDelay);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    wrap(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut() {
      cut = true;
      // Reset (RST) like a network failure; a socket still connecting or already half-closed is destroyed
      // outright, since resetting those can leave the handle open for good (Node 20).
      for (const s of sockets) {
        if (s.connecting || s.readableEnded || s.writableEnded) s.destroy();
        else s.resetAndDestroy();
      }
      sockets.clear();
    },
    restore() {
      cut = false;
    },
    get isCut() {
      return cut;
    },
    delay(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`delay must be a finite number ≥ 0, got ${ms}`);
      delayMs = ms;
    },
    get delayMs() {
      return delayMs;
    },
    async close() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface TcpBalancer {
  readonly port: number;
  readonly url: string;
  /** Connections accepted per target index so far. */
  readonly accepted: number[];
  close(): Promise<void>;
}

/**
 * A loopback TCP balancer in front of several servers, like nginx in front of gateways: each new
 * connection goes to the next target in turn; a target that refuses the connection is skipped
 * (the next one is tried), so clients of a dead server land on the live ones.
 */
export async function startTcpBalancer(targets: ReadonlyArray<{ host?: string; port: number }>): Promise<TcpBalancer> {
  const sockets = new Set<Socket>();
  const accepted = targets.map(() => 0);
  let next = 0;
  const server = createServer((client) => {
    client.pause();
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const tryTarget = (attempt: number) => {
      if (attempt >= targets.length) {
        client.destroy();
        return;
      }
      const index = next++ % targets.length;
      const t = targets[index]!;
      const upstream = connect(t.port, t.host ?? '127.0.0.1');
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        accepted[index]! += 1;
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => upstream.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.once('error', () => {
        if (!connected) tryTarget(attempt + 1);
      });
    };
    tryTarget(0);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    accepted,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
