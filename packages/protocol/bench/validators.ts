// Micro benchmark behind the choice of validator generator (README "Why ajv standalone"): the cost of
// validating a representative `message.create` REQUEST params object and a durable `message.create` write,
// with (a) the ajv standalone code this package ships, (b) the same ajv code without `ownProperties` (to
// show what the own-properties guarantee costs) and (c) TypeBox's TypeCompiler on the same schemas written
// in TypeBox (whose checks read inherited properties too). All run in one process, interleaved, so a busy
// machine slows them alike.
// Run: npm run -w @chat/protocol bench [-- rounds]
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Ajv } from 'ajv';
import {
  durableWrites,
  MAX_NONCE_LENGTH,
  MAX_SHORT_STRING,
  MessageCreateParams,
  MessageCreateWrite,
  requestParams,
  SNOWFLAKE_PATTERN,
} from '../src/index.js';

const loose = new Ajv({ unicode: false, unicodeRegExp: false, strictRequired: false, messages: false });

const params = { channel_id: '264905529753620400', content: 'hello there, see you at 5', nonce: 'n-1733130000000-42' };
const write = {
  v: 1,
  type: 'message.create',
  id: '264905529753620487',
  channel_id: '264905529753620400',
  author: { id: '264905529753620111', username: 'alice' },
  content: 'hello there, see you at 5',
  nonce: 'n-1733130000000-42',
  timestamp: '2026-01-01T00:00:00.000Z',
};

const Id = Type.String({ pattern: SNOWFLAKE_PATTERN });
const Short = Type.String({ minLength: 1, maxLength: MAX_SHORT_STRING });
const tbParams = TypeCompiler.Compile(
  Type.Object(
    { channel_id: Id, content: Type.String(), nonce: Type.Optional(Type.Union([Type.String(), Type.Null()])) },
    { additionalProperties: false },
  ),
);
const tbWrite = TypeCompiler.Compile(
  Type.Object({
    v: Type.Literal(1),
    type: Type.Literal('message.create'),
    id: Id,
    channel_id: Short,
    author: Type.Object({ id: Short, username: Short }),
    content: Type.String(),
    nonce: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: MAX_NONCE_LENGTH }), Type.Null()])),
    timestamp: Type.String(),
  }),
);

const cases = [
  {
    name: 'message.create params',
    value: params,
    ajv: requestParams['message.create'].is,
    loose: loose.compile(MessageCreateParams),
    typebox: tbParams,
  },
  {
    name: 'durable message.create write',
    value: write,
    ajv: durableWrites['message.create'].is,
    loose: loose.compile(MessageCreateWrite),
    typebox: tbWrite,
  },
];

const N = 200_000;
function nsPerOp(check: (v: unknown) => boolean, value: unknown): number {
  const started = process.hrtime.bigint();
  let ok = 0;
  for (let i = 0; i < N; i++) if (check(value)) ok++;
  const ns = Number(process.hrtime.bigint() - started);
  if (ok !== N) throw new Error('a valid value was refused');
  return ns / N;
}

const rounds = Number(process.argv[2] ?? 7);
for (const c of cases) {
  const checks = {
    'ajv standalone (shipped)': c.ajv,
    'ajv without ownProperties': (v: unknown) => c.loose(v) as boolean,
    'TypeBox compiled': (v: unknown) => c.typebox.Check(v),
  };
  const times = new Map<string, number[]>(Object.keys(checks).map((k) => [k, []]));
  for (const check of Object.values(checks)) nsPerOp(check, c.value); // warm-up
  for (let r = 0; r < rounds; r++)
    for (const [name, check] of Object.entries(checks)) times.get(name)!.push(nsPerOp(check, c.value));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(0);
  const line = [...times].map(([name, xs]) => `${name} ${median(xs)} ns/op`).join(', ');
  process.stdout.write(`${c.name} (median of ${rounds}): ${line}\n`);
}
