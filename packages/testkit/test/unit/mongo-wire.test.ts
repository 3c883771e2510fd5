// OP_MSG / OP_QUERY framing of the MongoDB stand-in, byte by byte: the parts of the protocol the
// driver exercises only sometimes (document sequences, checksums, moreToCome, split reads).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BSON } from 'bson';
import {
  decodeMessage,
  encodeOpMsg,
  encodeOpReply,
  MessageReader,
  OP_MSG,
  OP_QUERY,
  OP_REPLY,
  ProtocolError,
} from '../../src/mongo/wire.js';

function header(length: number, requestId: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(0, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

function opMsg(flags: number, body: object, sequences: Array<[string, object[]]> = [], checksum = false): Buffer {
  const parts: Buffer[] = [Buffer.alloc(4), Buffer.from([0]), Buffer.from(BSON.serialize(body))];
  parts[0]!.writeUInt32LE(flags, 0);
  for (const [id, docs] of sequences) {
    const payload = Buffer.concat([Buffer.from(`${id}\0`), ...docs.map((d) => Buffer.from(BSON.serialize(d)))]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(payload.length + 4, 0);
    parts.push(Buffer.from([1]), size, payload);
  }
  if (checksum) parts.push(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  const rest = Buffer.concat(parts);
  return Buffer.concat([header(16 + rest.length, 7, OP_MSG), rest]);
}

test('an OP_MSG document sequence becomes an array field of the command', () => {
  const msg = opMsg(0, { insert: 'm', $db: 'd' }, [['documents', [{ _id: 1n }, { _id: 264905529753620487n }]]]);
  const req = decodeMessage(msg);
  assert.equal(req.legacy, false);
  assert.equal(req.noReply, false);
  assert.equal(req.header.requestId, 7);
  assert.deepEqual(req.command, { insert: 'm', $db: 'd', documents: [{ _id: 1n }, { _id: 264905529753620487n }] });
});

test('a checksum is skipped and moreToCome means the client wants no reply', () => {
  const req = decodeMessage(opMsg(0b11, { delete: 'm', $db: 'd' }, [['deletes', [{ q: {}, limit: 0 }]]], true));
  assert.equal(req.noReply, true);
  assert.deepEqual(req.command.deletes, [{ q: {}, limit: 0 }]);
});

test('an OP_MSG with an unknown required flag bit is refused', () => {
  assert.throws(() => decodeMessage(opMsg(1 << 5, { ping: 1, $db: 'd' })), ProtocolError);
});

test('a legacy OP_QUERY command is decoded with its database and unwrapped from $query', () => {
  const ns = Buffer.from('admin.$cmd\0');
  const doc = Buffer.from(
    BSON.serialize({ $query: { ismaster: 1, helloOk: true }, $readPreference: { mode: 'primary' } }),
  );
  const rest = Buffer.concat([Buffer.alloc(4), ns, Buffer.alloc(8), doc]);
  const req = decodeMessage(Buffer.concat([header(16 + rest.length, 3, OP_QUERY), rest]));
  assert.equal(req.legacy, true);
  assert.equal(req.legacyDb, 'admin');
  assert.deepEqual(req.command, { ismaster: 1, helloOk: true });
});

test('replies encode as OP_MSG and OP_REPLY answering the request id, Int64 intact', () => {
  const reply = encodeOpMsg(1, 42, { ok: 1, cursor: { id: 264905529753620487n, firstBatch: [] } });
  assert.equal(reply.readInt32LE(0), reply.length);
  assert.equal(reply.readInt32LE(8), 42);
  assert.deepEqual(decodeMessage(reply).command, { ok: 1, cursor: { id: 264905529753620487n, firstBatch: [] } });

  const legacy = encodeOpReply(2, 43, { ismaster: true, ok: 1 });
  assert.equal(legacy.readInt32LE(12), OP_REPLY);
  assert.equal(legacy.readInt32LE(8), 43);
  assert.equal(legacy.readInt32LE(32), 1); // numberReturned
  assert.deepEqual(BSON.deserialize(legacy.subarray(36)), { ismaster: true, ok: 1 });
});

test('the reader reassembles messages split across chunks and splits coalesced ones', () => {
  const a = opMsg(0, { ping: 1, $db: 'a' });
  const b = opMsg(0, { ping: 1, $db: 'b' });
  const reader = new MessageReader();
  const stream = Buffer.concat([a, b]);
  const seen: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 3) seen.push(...reader.push(stream.subarray(i, i + 3)));
  assert.deepEqual(
    seen.map((m) => decodeMessage(m).command.$db),
    ['a', 'b'],
  );
  assert.deepEqual(
    new MessageReader().push(stream).map((m) => m.length),
    [a.length, b.length],
  );
});

test('a message length outside the protocol limits is refused', () => {
  const bad = Buffer.alloc(16);
  bad.writeInt32LE(8, 0);
  assert.throws(() => new MessageReader().push(bad), ProtocolError);
});
