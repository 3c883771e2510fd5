// Fails a test that leaves AMQP connections or channels open. Connections are seen as TCP sockets
// (node:diagnostics_channel 'net.client.socket') to an AMQP port; channels by wrapping amqplib's
// ChannelModel.createChannel/createConfirmChannel, the one place every promise-API channel (and
// every channel amqplib's recovery re-creates) comes from.
import { subscribe } from 'node:diagnostics_channel';
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AmqpLeakError } from './errors.js';
import { isAmqpPort, registerAmqpPort } from './internal/amqp-ports.js';
import { amqpUrl } from './rabbit.js';

export { registerAmqpPort } from './internal/amqp-ports.js';

/** What is open right now. */
export interface AmqpLeaks {
  connections: number;
  channels: number;
  /** One line per open connection or channel, with the test code that opened it. */
  details: string[];
}

/** Options of assertNoAmqpLeaks and useAmqpLeakCheck. */
export interface AssertNoAmqpLeaksOptions {
  /** How long closes already in flight may take to finish. Default: 2000 ms. */
  graceMs?: number;
  /**
   * After finding a leak, close the leaked amqplib connections and channels (best effort, before
   * throwing), so that the next test starts clean and the process can exit: an open amqplib
   * connection's heartbeat timers keep Node alive. Default: false for assertNoAmqpLeaks, true
   * for useAmqpLeakCheck.
   */
  closeLeaked?: boolean;
}

interface SocketRecord {
  socket: Socket;
  port: number | undefined;
  openedAt: string;
}

/** The parts of amqplib's internal objects the check reads. */
interface AmqpConnectionLike {
  stream?: { destroyed?: boolean; localPort?: number; remotePort?: number };
  close?: (callback: (err?: unknown) => void) => void;
}
interface ChannelLike extends EventEmitter {
  ch?: number;
  connection?: AmqpConnectionLike;
  close?: () => Promise<void>;
}
interface ChannelModelLike extends EventEmitter {
  connection?: AmqpConnectionLike;
}

interface ChannelRecord {
  channel: ChannelLike;
  confirm: boolean;
  openedAt: string;
}

const SOCKET_CHANNEL = 'net.client.socket';
const OWN_FILE = fileURLToPath(import.meta.url);
const PATCHED = Symbol.for('@chat/testkit.leak-check.original');

/** Sockets to an AMQP port that have not closed. */
const sockets = new Set<SocketRecord>();
/** amqplib Connection objects by their socket, to close a leaked one. */
const connectionsBySocket = new WeakMap<object, AmqpConnectionLike>();
/** Channels that have not closed, by the ChannelModel (connection) they belong to. */
const channelsByModel = new Map<ChannelModelLike, { records: Set<ChannelRecord>; onClose: () => void }>();
let installed = false;

function onClientSocket(message: unknown): void {
  const socket = (message as { socket?: Socket }).socket;
  if (!socket) return;
  const record: SocketRecord = { socket, port: undefined, openedAt: openedAt() };
  const classify = (port: number | undefined) => {
    if (record.port !== undefined || !isAmqpPort(port)) return;
    record.port = port;
    if (!socket.destroyed) sockets.add(record);
  };
  // 'connectionAttempt' (Node >= 20.12) names the port before the TCP handshake completes;
  // 'connect' covers older versions.
  socket.on('connectionAttempt', (_ip: string, port: number) => classify(port));
  socket.once('connect', () => classify(socket.remotePort));
  socket.once('close', () => sockets.delete(record));
}

/** The first frames of the caller's code (outside node internals, amqplib and this file). */
function openedAt(): string {
  const limit = Error.stackTraceLimit;
  // net and amqplib frames come first; the default limit of 10 would cut off the caller.
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = stack
    .split('\n')
    .slice(1)
    .map((line) => line.trim().replace(/^at /, ''));
  const own = frames.filter(
    (frame) =>
      !frame.includes('node:') &&
      !frame.includes('/node_modules/') &&
      !frame.includes(OWN_FILE) &&
      !frame.includes('(<anonymous>)'),
  );
  return own.slice(0, 3).join(' <- ') || frames.at(-1) || 'unknown';
}

/**
 * Wraps amqplib internals that its package `exports` map hides. By absolute path, require()
 * hands back the very module instances channel_api.js uses, so the patched prototypes reach
 * every connection in the process.
 */
function patchAmqplib(): void {
  const require = createRequire(import.meta.url);
  const lib = join(dirname(require.resolve('amqplib')), 'lib');
  const { ChannelModel } = require(join(lib, 'channel_model.js')) as { ChannelModel?: { prototype: object } };
  const { Connection } = require(join(lib, 'connection.js')) as { Connection?: { prototype: object } };
  if (!ChannelModel || !Connection) throw new Error(`amqplib changed: ${lib} lacks ChannelModel or Connection`);

  wrapMethod(ChannelModel.prototype, 'createChannel', (model: ChannelModelLike, result) =>
    trackChannelPromise(model, result, false),
  );
  wrapMethod(ChannelModel.prototype, 'createConfirmChannel', (model: ChannelModelLike, result) =>
    trackChannelPromise(model, result, true),
  );
  // open() is where a Connection first meets its socket; remember the pair for closeLeaked.
  wrapMethod(Connection.prototype, 'open', (connection: AmqpConnectionLike) => {
    if (connection.stream) connectionsBySocket.set(connection.stream, connection);
  });
}

/** Replaces proto[method] with a wrapper that calls `after` and returns exactly what the original returned. */
function wrapMethod<T>(proto: object, method: string, after: (self: T, result: unknown) => void): void {
  const methods = proto as Record<string, unknown>;
  const original = methods[method];
  if (typeof original !== 'function') throw new Error(`amqplib changed: ${method} is missing`);
  if (PATCHED in original) return;
  const wrapped = function (this: T, ...args: unknown[]): unknown {
    const result: unknown = original.apply(this, args);
    try {
      after(this, result);
    } catch {
      // Tracking must never break the code under test.
    }
    return result;
  };
  Object.defineProperty(wrapped, PATCHED, { value: original });
  Object.defineProperty(wrapped, 'name', { value: method });
  methods[method] = wrapped;
}

function trackChannelPromise(model: ChannelModelLike, result: unknown, confirm: boolean): void {
  if (!(result instanceof Promise)) return;
  const where = openedAt();
  result.then(
    (channel: ChannelLike) => trackChannel(channel, model, confirm, where),
    () => {},
  );
}

function trackChannel(channel: ChannelLike, model: ChannelModelLike, confirm: boolean, where: string): void {
  if (!isConnectionOpen(model.connection)) return;
  let entry = channelsByModel.get(model);
  if (!entry) {
    // One 'close' listener per connection, not per channel: a connection may carry thousands.
    const onClose = () => channelsByModel.delete(model);
    entry = { records: new Set(), onClose };
    channelsByModel.set(model, entry);
    model.once('close', onClose);
  }
  const { records, onClose } = entry;
  const record: ChannelRecord = { channel, confirm, openedAt: where };
  records.add(record);
  channel.once('close', () => {
    records.delete(record);
    if (records.size === 0 && channelsByModel.get(model)?.records === records) {
      channelsByModel.delete(model);
      model.removeListener('close', onClose);
    }
  });
}

function isConnectionOpen(connection: AmqpConnectionLike | undefined): boolean {
  return connection?.stream?.destroyed !== true;
}

function openSockets(): SocketRecord[] {
  return [...sockets].filter((record) => !record.socket.destroyed);
}

function openChannels(): { model: ChannelModelLike; record: ChannelRecord }[] {
  const open: { model: ChannelModelLike; record: ChannelRecord }[] = [];
  for (const [model, { records }] of channelsByModel) {
    if (!isConnectionOpen(model.connection)) continue;
    for (const record of records) {
      if (isConnectionOpen(record.channel.connection)) open.push({ model, record });
    }
  }
  return open;
}

/**
 * Starts tracking AMQP sockets and amqplib channels in this process. Idempotent. Only what opens
 * after the first call is seen. Sockets count when their remote port is 5672, the port of
 * amqpUrl(), a port of a node testkit started, or one given to registerAmqpPort(). The
 * callback API (amqplib/callback_api) and amqps: (TLS) sockets are not tracked.
 */
export function installAmqpLeakCheck(): void {
  if (installed) return;
  const port = new URL(amqpUrl()).port;
  if (port) registerAmqpPort(Number(port));
  patchAmqplib();
  subscribe(SOCKET_CHANNEL, onClientSocket);
  installed = true;
}

/** The AMQP connections and channels open now. A channel on a closed connection counts as closed. */
export function amqpLeaks(): AmqpLeaks {
  const details: string[] = [];
  const leakedSockets = openSockets();
  for (const { socket, port, openedAt: where } of leakedSockets) {
    details.push(
      `connection ${socket.localAddress ?? '?'}:${socket.localPort ?? '?'} -> ${socket.remoteAddress ?? '?'}:${port} opened at ${where}`,
    );
  }
  const leakedChannels = openChannels();
  for (const { model, record } of leakedChannels) {
    const stream = model.connection?.stream;
    details.push(
      `${record.confirm ? 'confirm channel' : 'channel'} ${record.channel.ch ?? '?'} on connection :${stream?.localPort ?? '?'} -> :${stream?.remotePort ?? '?'} opened at ${record.openedAt}`,
    );
  }
  return { connections: leakedSockets.length, channels: leakedChannels.length, details };
}

/**
 * Resolves once no AMQP connection or channel is open, polling for up to `graceMs` (closing is
 * asynchronous: a socket closes a little after amqplib's close() resolves); otherwise rejects with
 * an AmqpLeakError that lists what is still open and where it was opened.
 */
export async function assertNoAmqpLeaks(options: AssertNoAmqpLeaksOptions = {}): Promise<void> {
  const graceMs = options.graceMs ?? 2000;
  const leaks = await waitForNoLeaks(graceMs);
  if (!leaks) return;
  if (options.closeLeaked) await closeLeaked(graceMs);
  throw new AmqpLeakError(
    `AMQP leak: ${leaks.connections} connection(s) and ${leaks.channels} channel(s) still open:\n  ${leaks.details.join('\n  ')}`,
    leaks.details,
  );
}

/** Polls until nothing is open (resolves undefined) or the time is up (resolves what is open). */
async function waitForNoLeaks(ms: number): Promise<AmqpLeaks | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const leaks = amqpLeaks();
    if (leaks.connections === 0 && leaks.channels === 0) return undefined;
    if (Date.now() >= deadline) return leaks;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Closes leaked connections through amqplib (a client-initiated close: no 'error' event that
 * could crash the process) and leaked channels on connections that stay open.
 */
async function closeLeaked(ms: number): Promise<void> {
  const closing = new Set<AmqpConnectionLike>();
  for (const { socket } of openSockets()) {
    const connection = connectionsBySocket.get(socket);
    if (!connection?.close) continue;
    closing.add(connection);
    try {
      connection.close(() => {});
    } catch {
      // already closing
    }
  }
  for (const { model, record } of openChannels()) {
    if (model.connection && closing.has(model.connection)) continue;
    record.channel.close?.().catch(() => {});
  }
  await waitForNoLeaks(ms);
}

/**
 * Call at the top of a node:test file: installs the check and fails every test after which an
 * AMQP connection or channel is still open (after `graceMs`, default 2 s, for closes in flight).
 * Leaked connections and channels are then closed (`closeLeaked`, default true) so one leak does
 * not fail every later test or keep the file from exiting.
 */
export function useAmqpLeakCheck(options: AssertNoAmqpLeaksOptions = {}): void {
  installAmqpLeakCheck();
  afterEach(() => assertNoAmqpLeaks({ closeLeaked: true, ...options }));
}
