// The chat-protocol server every seed design shares: a uWebSockets.js app on `/ws` (as our gateway
// uses), one Session per socket, local fan-out through LocalSockets, and a Routing that carries
// messages between servers. Message ids are snowflakes; nothing is stored.

import uws, { type us_listen_socket, type WebSocket } from 'uWebSockets.js';
import { CloseCode } from '@chat/protocol';
import { SnowflakeGenerator } from '@chat/router';
import type { LocalSockets } from './local-sockets.js';
import type { Membership } from './membership.js';
import type { ChatMessage, Routing } from './routing.js';
import { Session, type SessionHost } from './session.js';
import { tokenVerifier } from './token-verifier.js';
import { UserAttachments } from './user-attachments.js';

export interface ChatServerOptions {
  serverId: string;
  /** Snowflake worker id, unique among the run's servers (0..1023). */
  workerId: number;
  host: string;
  port: number;
  jwtSecret: string;
  membership: Membership;
  local: LocalSockets;
  routing: Routing;
  /** Default 30,000 ms (HELLO's heartbeat_interval); two missed intervals close the socket. */
  heartbeatIntervalMs?: number;
  /** Bytes buffered for a slow socket before it is closed. Default 16 MiB. */
  maxBackpressureBytes?: number;
  onError(kind: string, err: unknown): void;
}

export interface ChatServer {
  readonly port: number;
  connections(): number;
  /** Stops listening and closes every socket (1001). */
  close(): void;
}

interface UserData {
  session?: Session;
}

const MAX_FRAME_BYTES = 16 * 1024;

/** uWS silently falls back to a slow JavaScript build when its addon does not load; only the native one has getParts. */
function nativeUws(): typeof uws {
  if (typeof (uws as { getParts?: unknown }).getParts !== 'function') {
    throw new Error('uWebSockets.js did not load its native addon; refusing to run a baseline on the JS fallback');
  }
  return uws;
}

export async function startChatServer(o: ChatServerOptions): Promise<ChatServer> {
  const u = nativeUws();
  const ids = new SnowflakeGenerator({ workerId: o.workerId });
  const sessions = new Set<Session>();
  const host: SessionHost = {
    serverId: o.serverId,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 30_000,
    identifyTimeoutMs: 10_000,
    maxContentLength: 4000,
    maxInFlightPerSocket: 256,
    verifyToken: tokenVerifier(o.jwtSecret),
    attachments: new UserAttachments(o.routing),
    local: o.local,
    membership: o.membership,
    async createMessage(author, channelId, content, nonce) {
      const message: ChatMessage = {
        id: ids.nextSync(),
        channel_id: channelId,
        author: { id: author.userId, username: author.username },
        content,
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        nonce,
        type: 0,
      };
      const payloadJson = JSON.stringify(message);
      await o.routing.publish(message, payloadJson, o.membership.members(channelId));
      return payloadJson;
    },
    onError: o.onError,
  };

  const app = u.App();
  app.ws<UserData>('/ws', {
    compression: u.DISABLED,
    maxPayloadLength: MAX_FRAME_BYTES,
    maxBackpressure: o.maxBackpressureBytes ?? 16 * 1024 * 1024,
    closeOnBackpressureLimit: 1,
    idleTimeout: 0,
    sendPingsAutomatically: false,
    open: (ws: WebSocket<UserData>) => {
      const session = new Session(
        {
          send: (text) => {
            try {
              ws.send(text, false);
            } catch {
              // closed meanwhile
            }
          },
          end: (code, reason) => {
            try {
              ws.end(code, reason);
            } catch {
              // closed meanwhile
            }
          },
        },
        host,
      );
      ws.getUserData().session = session;
      sessions.add(session);
      session.open(Date.now());
    },
    message: (ws, message, isBinary) => {
      const session = ws.getUserData().session;
      if (!session) return;
      if (isBinary) {
        ws.end(CloseCode.DECODE_ERROR, 'text frames only');
        return;
      }
      session.message(Buffer.from(message).toString('utf8'), Date.now());
    },
    close: (ws) => {
      const session = ws.getUserData().session;
      if (!session) return;
      sessions.delete(session);
      session.closed();
    },
  });

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(o.host, o.port, (sock) =>
      sock ? resolve(sock) : reject(new Error(`cannot listen on ${o.host}:${o.port}`)),
    );
  });
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const s of sessions) s.tick(now);
  }, 1000);
  sweep.unref();

  return {
    port: u.us_socket_local_port(listenSocket),
    connections: () => sessions.size,
    close() {
      clearInterval(sweep);
      u.us_listen_socket_close(listenSocket);
      for (const s of [...sessions]) s.close(CloseCode.GOING_AWAY, 'server shutting down');
    },
  };
}
