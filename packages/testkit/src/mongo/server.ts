// The TCP side of the stand-in: accepts connections, frames messages, runs each command
// synchronously in arrival order and writes the reply. One Store per server instance.

import * as net from 'node:net';
import { runCommand } from './commands.js';
import { Cursors } from './cursor.js';
import { Store } from './store.js';
import { decodeMessage, encodeOpMsg, encodeOpReply, MessageReader, ProtocolError } from './wire.js';

/** Where the stand-in reports its start-up warning and protocol problems (console and pino fit). */
export interface StandInLogger {
  warn(message: string): void;
}

/** Options of startMongoStandIn. */
export interface MongoStandInOptions {
  /** TCP port. Default: 0, a free port chosen by the OS. */
  port?: number;
  /** Address to listen on. Default: '127.0.0.1'. */
  host?: string;
  /** Receives the start-up warning and protocol errors. Default: process.emitWarning. */
  logger?: StandInLogger;
}

/** A running stand-in. */
export interface MongoStandIn {
  /** Connection string for the `mongodb` driver, with `directConnection=true`. */
  url: string;
  port: number;
  /** Drops every connection and all data, and stops listening. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function emitWarning(message: string): void {
  process.emitWarning(message, { type: 'MongoStandInWarning', code: 'CHAT_MONGO_STAND_IN' });
}

/**
 * Starts an in-memory MongoDB wire-protocol stand-in for tests (docs/design.md §5): the real `mongodb`
 * driver connects to it, but it keeps nothing and implements only the commands listed in
 * packages/testkit/MONGO.md. Logs one warning saying so.
 */
export async function startMongoStandIn(opts: MongoStandInOptions = {}): Promise<MongoStandIn> {
  const host = opts.host ?? '127.0.0.1';
  const warn = opts.logger ? (m: string) => opts.logger?.warn(m) : emitWarning;
  const store = new Store();
  const cursors = new Cursors();
  const sockets = new Set<net.Socket>();
  let connectionCount = 0;
  let replyId = 0;

  function handle(message: Buffer, connectionId: number): Buffer | undefined {
    const request = decodeMessage(message);
    const db = request.legacy ? request.legacyDb : request.command.$db;
    const reply =
      typeof db === 'string' && db.length > 0
        ? runCommand(request.command, { store, cursors, db, connectionId })
        : { ok: 0, errmsg: 'OP_MSG requests require a $db argument', code: 40571, codeName: 'Location40571' };
    if (request.noReply) return undefined;
    replyId = (replyId + 1) & 0x7fffffff;
    const encode = request.legacy ? encodeOpReply : encodeOpMsg;
    try {
      return encode(replyId, request.header.requestId, reply);
    } catch (err) {
      // A reply bson cannot encode (too large, bad value) is still answered, as an error.
      const errmsg = `stand-in could not encode the reply: ${err instanceof Error ? err.message : String(err)}`;
      return encode(replyId, request.header.requestId, { ok: 0, errmsg, code: 1, codeName: 'InternalError' });
    }
  }

  const server = net.createServer((socket) => {
    const connectionId = ++connectionCount;
    const reader = new MessageReader();
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    // Resets from clients going away are normal; the socket is closed either way.
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const message of reader.push(chunk)) {
          const reply = handle(message, connectionId);
          if (reply) socket.write(reply);
        }
      } catch (err) {
        // The server closes a connection that sends what it cannot parse; so does the stand-in.
        const reason = err instanceof ProtocolError ? err.message : String(err);
        warn(`MongoDB stand-in: closing connection ${connectionId}: ${reason}`);
        socket.destroy();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => warn(`MongoDB stand-in: server error: ${err.message}`));

  const address = server.address() as net.AddressInfo;
  const urlHost = net.isIPv6(host) ? `[${host}]` : host;
  const url = `mongodb://${urlHost}:${address.port}/?directConnection=true`;
  warn(
    `MongoDB stand-in listening on ${url}: an in-memory imitation of MongoDB for tests only. ` +
      'It keeps nothing (all data is lost on close) and implements only the commands in packages/testkit/MONGO.md. ' +
      'Set MONGO_URL to test against a real MongoDB.',
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      cursors.clear();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };
  return { url, port: address.port, close, [Symbol.asyncDispose]: close };
}
