// The Socket.IO peer's server process: what a user would write instead of this system, kept small and
// honest. Socket.IO 4 over the websocket transport only, @socket.io/redis-adapter (classic Redis
// pub/sub: every broadcast is published once and every server receives it) so that several processes
// act as one. A client authenticates with an HS256 JWT in the handshake's `auth.token`; the
// middleware reads the user's channels from Redis (`<prefix>:user:<id>:channels`, written by the
// peer's start-up) and the socket joins one room per channel. `message.create` {channel_id, content}
// answers through the ack ({ok: true, id} or {ok: false, code}) and broadcasts MESSAGE_CREATE to the
// channel's room: every member's sockets, the sender's included. Nothing is stored: at-most-once.
// Environment: PORT, HOST, REDIS_URL, JWT_SECRET, PEER_PREFIX, SERVER_ID.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import { Server, type Socket } from 'socket.io';

function env(name: string): string {
  const v = process.env[name];
  if (!v) {
    console.error(JSON.stringify({ level: 60, msg: `${name} must be set` }));
    process.exit(2);
  }
  return v;
}

const PORT = Number(env('PORT'));
const HOST = process.env.HOST || '127.0.0.1';
const REDIS_URL = env('REDIS_URL');
const KEY = new TextEncoder().encode(env('JWT_SECRET'));
const PREFIX = env('PEER_PREFIX');
const SERVER_ID = env('SERVER_ID');
/** Largest `content` accepted (docs/protocol.md's limit for messages). */
const MAX_CONTENT = 4000;

/** Logs a kind of bad input once (then counts it silently): a flood of bad frames must not flood the log. */
const logged = new Set<string>();
function badInput(code: string, detail: string): void {
  if (logged.has(code)) return;
  logged.add(code);
  console.log(JSON.stringify({ level: 40, msg: 'bad input (logged once per kind)', code, detail }));
}

interface User {
  id: string;
  username: string;
  channels: string[];
}

const redis = new Redis(REDIS_URL);
const pub = new Redis(REDIS_URL);
const sub = pub.duplicate();
for (const r of [redis, pub, sub]) {
  r.on('error', (err: Error) => console.log(JSON.stringify({ level: 50, msg: 'redis error', err: err.message })));
}

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  // A frame larger than this closes the socket (Socket.IO's own bound on client input).
  maxHttpBufferSize: 16 * 1024,
});
io.adapter(createAdapter(pub, sub, { key: `${PREFIX}:sio` }));

const room = (channelId: string) => `c:${channelId}`;

io.use(async (socket, next) => {
  const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  if (typeof token !== 'string' || token.length > 4096) {
    badInput('no_token', 'handshake without auth.token');
    next(new Error('authentication failed'));
    return;
  }
  try {
    const { payload } = await jwtVerify(token, KEY, { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string') throw new Error('token without sub');
    const channels = await redis.smembers(`${PREFIX}:user:${payload.sub}:channels`);
    socket.data.user = {
      id: payload.sub,
      username: typeof payload.name === 'string' ? payload.name : payload.sub,
      channels,
    } satisfies User;
    next();
  } catch (err) {
    badInput('auth_failed', (err as Error).message);
    next(new Error('authentication failed'));
  }
});

let seq = 0;
/** A message id unique across the servers of a run: the server's number, then a counter. */
const nextId = () => `${SERVER_ID}-${++seq}`;

io.on('connection', (socket: Socket) => {
  const user = socket.data.user as User;
  // Joined synchronously on connection: no message to a channel can slip in between CONNECT and the join.
  socket.join(user.channels.map(room));
  socket.on('message.create', (params: unknown, ack: unknown) => {
    if (typeof ack !== 'function') {
      badInput('no_ack', 'message.create without an ack callback');
      return;
    }
    const p = params as { channel_id?: unknown; content?: unknown } | null;
    if (typeof p?.channel_id !== 'string' || typeof p.content !== 'string' || p.content.length > MAX_CONTENT) {
      badInput('invalid', 'message.create needs {channel_id: string, content: string ≤ 4000}');
      ack({ ok: false, code: 'invalid' });
      return;
    }
    if (!socket.rooms.has(room(p.channel_id))) {
      badInput('forbidden', `not a member of ${p.channel_id}`);
      ack({ ok: false, code: 'forbidden' });
      return;
    }
    const id = nextId();
    io.to(room(p.channel_id)).emit('MESSAGE_CREATE', {
      id,
      channel_id: p.channel_id,
      author: { id: user.id, username: user.username },
      content: p.content,
      timestamp: new Date().toISOString(),
    });
    ack({ ok: true, id });
  });
});

http.listen(PORT, HOST, () => {
  console.log(JSON.stringify({ level: 30, msg: 'socketio listening', port: PORT, server: SERVER_ID }));
});

function shutdown(): void {
  io.close();
  for (const r of [redis, pub, sub]) r.disconnect();
  setTimeout(() => process.exit(0), 200).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
