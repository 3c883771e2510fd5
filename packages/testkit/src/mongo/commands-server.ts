// Handshake and server-level commands: hello/isMaster, ping, buildInfo, hostInfo, getParameter,
// endSessions. The stand-in presents itself as a standalone MongoDB 7.0 (wire version 21).

import * as os from 'node:os';
import type { Doc } from './bson-values.js';
import type { CommandHandler } from './command-context.js';
import { CommandError } from './errors.js';
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE_BYTES, MAX_WRITE_BATCH_SIZE } from './wire.js';

/** MongoDB 7.0. Driver 7 needs at least 9 (4.4); 21 keeps it on the command forms it uses for 7.0. */
export const MAX_WIRE_VERSION = 21;
export const SERVER_VERSION = '7.0.0';

/**
 * The handshake reply of a standalone. It has no `topologyVersion`, so the driver polls `hello`
 * every heartbeat instead of holding a streaming (exhaust) `hello` open. `logicalSessionTimeoutMinutes`
 * makes the driver attach `lsid`s, which the stand-in accepts and ignores; as a standalone it
 * gets no retryable-write `txnNumber`s.
 */
function handshake(legacy: boolean): CommandHandler {
  return (_cmd, ctx) => ({
    ...(legacy ? { ismaster: true } : { isWritablePrimary: true }),
    helloOk: true,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
  });
}

export const hello = handshake(false);
export const isMaster = handshake(true);

export const ping: CommandHandler = () => ({});

export const buildInfo: CommandHandler = () => ({
  version: SERVER_VERSION,
  gitVersion: 'chat-testkit-mongo-stand-in',
  versionArray: SERVER_VERSION.split('.').map(Number).concat([0]).slice(0, 4),
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
  storageEngines: ['inMemory'],
  javascriptEngine: 'none',
  modules: [],
  /** Not a server field: lets a test or tool tell it is talking to the stand-in. */
  standIn: true,
});

export const hostInfo: CommandHandler = () => ({
  system: {
    currentTime: new Date(),
    hostname: os.hostname(),
    cpuAddrSize: 64,
    memSizeMB: Math.round(os.totalmem() / (1024 * 1024)),
    numCores: os.cpus().length,
    cpuArch: os.arch(),
    numaEnabled: false,
  },
  os: { type: os.type(), name: os.platform(), version: os.release() },
  extra: {},
});

const PARAMETERS: Doc = { featureCompatibilityVersion: { version: SERVER_VERSION.split('.').slice(0, 2).join('.') } };

/** Fields any command may carry that are not parameter names. */
const GENERIC_FIELDS = new Set(['lsid', 'comment', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', 'maxTimeMS']);

export const getParameter: CommandHandler = (cmd) => {
  if (cmd.getParameter === '*') return { ...PARAMETERS };
  const reply: Doc = {};
  for (const name of Object.keys(cmd)) {
    if (name === 'getParameter' || name.startsWith('$') || GENERIC_FIELDS.has(name)) continue;
    if (!(name in PARAMETERS)) throw new CommandError('InvalidOptions', `no option found to get: ${name}`);
    reply[name] = PARAMETERS[name];
  }
  if (Object.keys(reply).length === 0) throw new CommandError('InvalidOptions', 'no option found to get');
  return reply;
};

/** Sessions carry no state in the stand-in; ending them is a no-op. */
export const endSessions: CommandHandler = () => ({});
