// The Socket.IO peer as the peers scenario starts it (2 server processes, the local Redis): it
// authenticates the handshake, delivers a channel's messages to every member's socket on either
// server (the sender's too) with the ack carrying the message's id, refuses non-members and bad
// input with an error code, and leaves no key behind when stopped.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SnowflakeGenerator } from '@chat/router';
import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import { peerTokens } from '../../baselines/peer-tokens.js';
import { socketioSystem } from '../../baselines/socketio/index.js';
import { REDIS_URL, runPrefix } from '../../lib/services.js';

function connect(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ['websocket'], auth: { token }, forceNew: true, reconnection: false });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

function nextMessage(socket: Socket): Promise<{ id: string; channel_id: string; author: { id: string } }> {
  return new Promise((resolve) => socket.once('MESSAGE_CREATE', resolve));
}

test('the Socket.IO peer delivers to every member across its two servers and refuses strangers and bad input', async () => {
  const ids = new SnowflakeGenerator({ workerId: 1020 });
  const dm = ids.nextSync();
  const other = ids.nextSync();
  const secret = randomBytes(32).toString('hex');
  const prefix = runPrefix('peers-sio-test');
  const instance = await socketioSystem.start({
    users: ['u0', 'u1', 'u2'],
    channels: [
      { id: dm, members: ['u0', 'u1'] },
      { id: other, members: ['u1', 'u2'] },
    ],
    jwtSecret: secret,
    servers: 2,
    prefix,
  });
  const sockets: Socket[] = [];
  try {
    assert.equal(instance.protocol, 'socketio');
    assert.equal(instance.urls.length, 2);
    assert.equal(instance.processes.length, 2);
    const [t0, t1] = await peerTokens(secret, ['u0', 'u1']);
    const [forged] = await peerTokens('not the secret', ['u0']);
    await assert.rejects(connect(instance.urls[0]!, forged!), /authentication failed/);

    const a = await connect(instance.urls[0]!, t0!);
    const b = await connect(instance.urls[1]!, t1!);
    sockets.push(a, b);
    const atB = nextMessage(b);
    const echo = nextMessage(a);
    const ack = (await a.emitWithAck('message.create', { channel_id: dm, content: 'hello' })) as {
      ok: boolean;
      id: string;
    };
    assert.equal(ack.ok, true);
    const [got, own] = await Promise.all([atB, echo]);
    assert.equal(got.id, ack.id);
    assert.equal(got.channel_id, dm);
    assert.equal(got.author.id, 'u0');
    assert.equal(own.id, ack.id);

    assert.deepEqual(await a.emitWithAck('message.create', { channel_id: other, content: 'x' }), {
      ok: false,
      code: 'forbidden',
    });
    assert.deepEqual(await a.emitWithAck('message.create', { channel_id: dm, content: 42 }), {
      ok: false,
      code: 'invalid',
    });
  } finally {
    for (const s of sockets) s.close();
    await instance.stop();
  }
  const redis = new Redis(REDIS_URL);
  try {
    const [, left] = await redis.scan('0', 'MATCH', `${prefix}:*`, 'COUNT', 10_000);
    assert.deepEqual(left, []);
  } finally {
    redis.disconnect();
  }
});
