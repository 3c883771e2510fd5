// The uWebSockets.js wiring of a gateway: the app, the `/ws` handlers that turn socket events into
// Session calls, the HTTP API mounted beside it, and the listening socket. Guarantees: a socket is
// refused at the upgrade while draining (503) or past its address's caps (429); every opened socket
// gets one Session, in `sessions` from open to close; closing the server stops accepting, it does not
// close open sockets (the drain does that through their sessions).
import type { us_listen_socket, WebSocket } from 'uWebSockets.js';
import type { ClientAddresses } from './client-address.js';
import { type HttpDeps, mountHttpApi } from './http-api.js';
import type { GatewayMetrics } from './metrics.js';
import { Session, type SessionHost } from './session.js';
import type { SocketCaps } from './socket-caps.js';
import type { loadNativeUws } from './uws.js';
import { UwsSocket } from './uws-socket.js';

export interface ServerOptions {
  /** The native uWebSockets.js (loaded before anything else is started). */
  uws: ReturnType<typeof loadNativeUws>;
  host: string;
  port: number;
  maxFrameBytes: number;
  /** What every session is built with. */
  sessionHost: SessionHost;
  /** The open sessions: the server adds and removes them. */
  sessions: Set<Session>;
  /** Called on every socket opened or closed (connection churn). */
  churn: () => void;
  caps: SocketCaps;
  addresses: ClientAddresses;
  metrics: GatewayMetrics;
  http: HttpDeps;
}

export interface Server {
  readonly port: number;
  /** Stops listening (open sockets stay). */
  close(): void;
}

interface UserData {
  session?: Session;
  /** The client's address, resolved at the upgrade. */
  address?: string;
}

/** Creates the app, mounts `/ws` and the HTTP API, and listens on host:port. */
export async function startServer(o: ServerOptions): Promise<Server> {
  const { uws } = o;
  const app = uws.App();
  app.ws<UserData>('/ws', {
    compression: uws.DISABLED,
    // Larger than our frame limit so that an oversize frame gets our 4010, not uWS's own close.
    maxPayloadLength: Math.max(o.maxFrameBytes * 4, 64 * 1024),
    // Our own limit decides (docs/design.md §6); uWS must not drop frames silently before that.
    maxBackpressure: 256 * 1024 * 1024,
    closeOnBackpressureLimit: 0,
    idleTimeout: 0,
    sendPingsAutomatically: false,
    upgrade: (res, req, context) => {
      if (!o.http.accepting()) {
        res.writeStatus('503 Service Unavailable').end('draining');
        return;
      }
      const address = o.addresses.resolve(
        Buffer.from(res.getRemoteAddressAsText()).toString(),
        req.getHeader('x-real-ip'),
        req.getHeader('x-forwarded-for'),
      );
      const refusal = o.caps.refusal(address);
      if (refusal) {
        o.metrics.rateLimited.inc({ scope: 'sockets_per_address' });
        res.writeStatus('429 Too Many Requests').end(refusal);
        return;
      }
      res.upgrade<UserData>(
        { address },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws: WebSocket<UserData>) => {
      const data = ws.getUserData();
      const session = new Session(new UwsSocket(ws), o.sessionHost, o.caps.open(data.address ?? ''));
      data.address = undefined;
      data.session = session;
      o.sessions.add(session);
      o.churn();
      session.open();
    },
    message: (ws, message, isBinary) => {
      ws.getUserData().session?.message(message, isBinary);
    },
    drain: (ws) => {
      ws.getUserData().session?.drained();
    },
    close: (ws) => {
      const session = ws.getUserData().session;
      if (!session) return;
      o.sessions.delete(session);
      o.churn();
      session.closed();
    },
  });
  mountHttpApi(app, o.http);
  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(o.host, o.port, (sock) =>
      sock ? resolve(sock) : reject(new Error(`cannot listen on ${o.host}:${o.port}`)),
    );
  });
  return {
    port: uws.us_socket_local_port(listenSocket),
    close: () => uws.us_listen_socket_close(listenSocket),
  };
}
