// The Socket.IO peer as a PeerSystem: `options.servers` processes of ./server.ts sharing the local
// Redis through @socket.io/redis-adapter. Start-up writes each user's channel list to Redis (the
// servers read it at the handshake); stop ends the processes and deletes every `<prefix>:*` key.
import { fileURLToPath } from 'node:url';
import { freePort } from '@chat/testkit';
import { Redis } from 'ioredis';
import { deleteRedisKeys, REDIS_URL, type Service, startService } from '../../lib/services.js';
import type { PeerInstance, PeerStartOptions, PeerSystem } from '../peer.js';

const SERVER_MAIN = fileURLToPath(new URL('./server.ts', import.meta.url));

/** Writes `<prefix>:user:<id>:channels` for every user of `options` (one pipeline). */
async function writeMembership(options: PeerStartOptions): Promise<void> {
  const byUser = new Map<string, string[]>(options.users.map((u) => [u, []]));
  for (const c of options.channels) for (const m of c.members) byUser.get(m)?.push(c.id);
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const pipe = redis.pipeline();
    for (const [user, channels] of byUser) {
      if (channels.length > 0) pipe.sadd(`${options.prefix}:user:${user}:channels`, ...channels);
    }
    await pipe.exec();
  } finally {
    redis.disconnect();
  }
}

export const socketioSystem: PeerSystem = {
  name: 'socketio',
  description:
    'Socket.IO 4.8 + @socket.io/redis-adapter 8.3 (websocket transport only, classic Redis pub/sub adapter): ' +
    'a room per channel, ack with the message id, broadcast to the room; no storage (at-most-once).',
  durable: false,
  async start(options: PeerStartOptions): Promise<PeerInstance> {
    await writeMembership(options);
    const servers: Service[] = [];
    const ports: number[] = [];
    const stop = async () => {
      await Promise.all(servers.map((s) => s.stop('SIGTERM', 10_000).catch(() => {})));
      await deleteRedisKeys([`${options.prefix}:*`]);
    };
    try {
      for (let i = 0; i < options.servers; i++) ports.push(await freePort());
      const started = await Promise.allSettled(
        ports.map((port, i) =>
          startService(
            `sio${i}`,
            SERVER_MAIN,
            {
              PORT: String(port),
              HOST: '127.0.0.1',
              REDIS_URL,
              JWT_SECRET: options.jwtSecret,
              PEER_PREFIX: options.prefix,
              SERVER_ID: `s${i}`,
            },
            '"msg":"socketio listening"',
          ),
        ),
      );
      for (const r of started) if (r.status === 'fulfilled') servers.push(r.value);
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } catch (err) {
      await stop();
      throw err;
    }
    return {
      urls: ports.map((port) => `ws://127.0.0.1:${port}`),
      protocol: 'socketio',
      processes: servers.map((s) => ({ label: s.name, pid: s.pid })),
      stop,
    };
  },
};
