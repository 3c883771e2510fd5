// MongoDB wire protocol framing: splits the TCP byte stream into messages, decodes OP_MSG and
// the legacy OP_QUERY (the driver's first `isMaster` of every connection still uses it), and
// encodes OP_MSG and OP_REPLY answers. Spec: github.com/mongodb/specifications source/message.

import { BSON } from 'bson';
import type { Doc } from './bson-values.js';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

/** Limits advertised in `hello`, and enforced on incoming messages. */
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
export const MAX_WRITE_BATCH_SIZE = 100_000;

const HEADER_SIZE = 16;
const FLAG_CHECKSUM_PRESENT = 1 << 0;
const FLAG_MORE_TO_COME = 1 << 1;
/** Bits 0-15 are required: a receiver must reject a message carrying one it does not know. */
const KNOWN_REQUIRED_FLAGS = FLAG_CHECKSUM_PRESENT | FLAG_MORE_TO_COME;

/**
 * Keeps `Int64` exact (as `bigint`, so snowflake ids survive) and regexes as RegExp for mingo;
 * everything else is promoted to plain JS values.
 */
const DESERIALIZE_OPTIONS = {
  useBigInt64: true,
  promoteValues: true,
  promoteBuffers: false,
  bsonRegExp: false,
} as const;

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export interface MessageHeader {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

/** A decoded request: the command document, and whether the client expects an answer. */
export interface Request {
  header: MessageHeader;
  command: Doc;
  /** OP_MSG `moreToCome` (unacknowledged writes, `w: 0`): the server must not reply. */
  noReply: boolean;
  /** Legacy OP_QUERY: answer with OP_REPLY. */
  legacy: boolean;
  /** OP_QUERY only: the database from `<db>.$cmd`. */
  legacyDb?: string;
}

/** Accumulates socket chunks and yields whole messages. */
export class MessageReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Length of the message being received, once its first four bytes are in. */
  #expected: number | undefined;

  /** Adds a chunk; returns every message it completes (header included). */
  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const out: Buffer[] = [];
    while (this.#buffered >= 4) {
      if (this.#expected === undefined) {
        // Only the length is read here: concatenating on every chunk of a large message is quadratic.
        const first = this.#chunks[0]!.length >= 4 ? this.#chunks[0]! : this.#flatten();
        const length = first.readInt32LE(0);
        if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE_BYTES) {
          throw new ProtocolError(`invalid message length ${length}`);
        }
        this.#expected = length;
      }
      if (this.#buffered < this.#expected) break;
      const all = this.#flatten();
      out.push(all.subarray(0, this.#expected));
      const rest = all.subarray(this.#expected);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
      this.#expected = undefined;
    }
    return out;
  }

  #flatten(): Buffer {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0]!;
  }
}

function readHeader(msg: Buffer): MessageHeader {
  return {
    length: msg.readInt32LE(0),
    requestId: msg.readInt32LE(4),
    responseTo: msg.readInt32LE(8),
    opCode: msg.readInt32LE(12),
  };
}

function readDocument(buf: Buffer, offset: number): { doc: Doc; end: number } {
  if (offset + 4 > buf.length) throw new ProtocolError('truncated BSON document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > buf.length) throw new ProtocolError('BSON document overruns the message');
  const doc = BSON.deserialize(buf.subarray(offset, offset + size), DESERIALIZE_OPTIONS) as Doc;
  return { doc, end: offset + size };
}

function readCString(buf: Buffer, offset: number): { value: string; end: number } {
  const nul = buf.indexOf(0, offset);
  if (nul < 0) throw new ProtocolError('unterminated C string');
  return { value: buf.toString('utf8', offset, nul), end: nul + 1 };
}

/**
 * Decodes OP_MSG: one kind-0 section (the command) and any kind-1 document sequences, which
 * the driver uses for `documents`/`updates`/`deletes`; each becomes an array field of the command.
 * A checksum, when present, is skipped without being verified.
 */
function decodeOpMsg(header: MessageHeader, msg: Buffer): Request {
  const flags = msg.readUInt32LE(HEADER_SIZE);
  const unknownRequired = flags & 0xffff & ~KNOWN_REQUIRED_FLAGS;
  if (unknownRequired !== 0) throw new ProtocolError(`unsupported OP_MSG flag bits ${unknownRequired}`);
  const end = flags & FLAG_CHECKSUM_PRESENT ? msg.length - 4 : msg.length;
  let offset = HEADER_SIZE + 4;
  let command: Doc | undefined;
  const sequences: Array<[string, Doc[]]> = [];
  while (offset < end) {
    const kind = msg[offset++];
    if (kind === 0) {
      if (command) throw new ProtocolError('OP_MSG has more than one body section');
      const { doc, end: next } = readDocument(msg, offset);
      command = doc;
      offset = next;
    } else if (kind === 1) {
      const size = msg.readInt32LE(offset);
      const sectionEnd = offset + size;
      if (size < 5 || sectionEnd > end) throw new ProtocolError('document sequence overruns the message');
      const id = readCString(msg, offset + 4);
      const docs: Doc[] = [];
      let p = id.end;
      while (p < sectionEnd) {
        const { doc, end: next } = readDocument(msg, p);
        docs.push(doc);
        p = next;
      }
      sequences.push([id.value, docs]);
      offset = sectionEnd;
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${String(kind)}`);
    }
  }
  if (!command) throw new ProtocolError('OP_MSG has no body section');
  for (const [field, docs] of sequences) command[field] = docs;
  return { header, command, noReply: (flags & FLAG_MORE_TO_COME) !== 0, legacy: false };
}

/** Decodes a legacy OP_QUERY against `<db>.$cmd`, unwrapping `$query` if the driver wrapped it. */
function decodeOpQuery(header: MessageHeader, msg: Buffer): Request {
  let offset = HEADER_SIZE + 4; // flags
  const ns = readCString(msg, offset);
  offset = ns.end + 8; // numberToSkip, numberToReturn
  const { doc } = readDocument(msg, offset);
  const command = doc.$query !== undefined && typeof doc.$query === 'object' ? (doc.$query as Doc) : doc;
  const dot = ns.value.indexOf('.');
  const db = dot < 0 ? ns.value : ns.value.slice(0, dot);
  const collection = dot < 0 ? '' : ns.value.slice(dot + 1);
  if (collection !== '$cmd') {
    throw new ProtocolError(`stand-in accepts OP_QUERY only for commands (<db>.$cmd), got ${ns.value}`);
  }
  return { header, command, noReply: false, legacy: true, legacyDb: db };
}

/** Decodes one whole message. Throws ProtocolError for anything the stand-in cannot answer. */
export function decodeMessage(msg: Buffer): Request {
  const header = readHeader(msg);
  switch (header.opCode) {
    case OP_MSG:
      return decodeOpMsg(header, msg);
    case OP_QUERY:
      return decodeOpQuery(header, msg);
    case OP_COMPRESSED:
      throw new ProtocolError('stand-in does not implement OP_COMPRESSED (it advertises no compressors)');
    default:
      throw new ProtocolError(`unsupported opCode ${header.opCode}`);
  }
}

const SERIALIZE_OPTIONS = { ignoreUndefined: true } as const;

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** OP_MSG reply: no flags, one kind-0 section. */
export function encodeOpMsg(requestId: number, responseTo: number, reply: Doc): Buffer {
  const body = BSON.serialize(reply, SERIALIZE_OPTIONS);
  const prefix = Buffer.alloc(5); // flagBits (0) + section kind 0
  return Buffer.concat([header(HEADER_SIZE + 5 + body.length, requestId, responseTo, OP_MSG), prefix, body]);
}

/** OP_REPLY for a legacy OP_QUERY command: one document, no cursor. */
export function encodeOpReply(requestId: number, responseTo: number, reply: Doc): Buffer {
  const body = BSON.serialize(reply, SERIALIZE_OPTIONS);
  const fields = Buffer.alloc(20); // responseFlags, cursorID (8), startingFrom, numberReturned
  fields.writeInt32LE(1, 16);
  return Buffer.concat([header(HEADER_SIZE + 20 + body.length, requestId, responseTo, OP_REPLY), fields, body]);
}
