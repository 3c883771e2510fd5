// Session through its socket port: the connection state machine without uWS, with the real token
// service, local index, admission control, metrics and command table. Only the ChatService's answers
// are stood in for (they need MongoDB and RabbitMQ; e2e tests run them for real).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode as Close, Op } from '@chat/protocol';
import type { ChangeEvent, Channel } from '@chat/store';
import { Registry } from 'prom-client';
import { WriteAdmission } from '../../src/admission.js';
import { createTokenService } from '../../src/auth.js';
import type { Author } from '../../src/chat-service.js';
import type { CommandServices } from '../../src/commands.js';
import { ApiError } from '../../src/errors.js';
import { LocalIndex } from '../../src/local-index.js';
import { createMetrics } from '../../src/metrics.js';
import { Session, type SessionHost, type SocketPort } from '../../src/session.js';

interface Frame {
  op: number;
  t?: string;
  s?: number;
  d: { id?: string; ok?: boolean; result?: unknown; error?: { code: string; retry_after_ms?: number } } & Record<
    string,
    unknown
  >;
}

/** The socket port as a test sees it: frames sent, the close, and a settable buffered amount. */
class TestSocket implements SocketPort {
  readonly frames: Frame[] = [];
  ended: { code: number; reason: string } | undefined;
  buffered = 0;
  send(text: string): boolean {
    this.frames.push(JSON.parse(text) as Frame);
    return true;
  }
  end(code: number, reason: string): void {
    this.ended ??= { code, reason };
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  cork(fn: () => void): void {
    fn();
  }
  closeCode(): number | undefined {
    return this.ended?.code;
  }
  /** The DISPATCH event names, in order. */
  events(): string[] {
    return this.frames.filter((f) => f.op === Op.DISPATCH).map((f) => f.t ?? '');
  }
  /** The RESPONSE to request `id`. */
  response(id: string): Frame['d'] | undefined {
    return this.frames.find((f) => f.op === Op.RESPONSE && f.d.id === id)?.d;
  }
}

/** A promise the test settles. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets every settled promise's continuation run (no clock involved). */
const settle = () => new Promise<void>((r) => setImmediate(r));

const enc = new TextEncoder();
const bytes = (value: unknown) => enc.encode(JSON.stringify(value)).buffer as ArrayBuffer;
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const tokens = createTokenService('s'.repeat(40), 3600);
const channel = (id: string): Channel =>
  ({ id, kind: 'group', name: `g${id}`, owner_id: null, created_at: new Date(0).toISOString() }) as Channel;
/** A snowflake minted now (chat epoch 2024-01-01). */
const idNow = () => String(BigInt(Date.now() - 1_704_067_200_000) << 22n);
const message = (id: string) => ({ id, channel_id: '10', content: 'x', edited_timestamp: null });

interface Setup {
  host: SessionHost;
  calls: string[];
  /** What the stand-in ChatService was asked, by method. */
  chatCalls: unknown[][];
  /** Resolves attach (IDENTIFY/RESUME wait on it). */
  attach: ReturnType<typeof deferred<void>>;
  changes: ReturnType<typeof deferred<{ events: ChangeEvent[]; truncated: boolean }>>;
  registry: Registry;
}

function setup(over: Partial<SessionHost> = {}, admissionMax = 10): Setup {
  const calls: string[] = [];
  const chatCalls: unknown[][] = [];
  const attach = deferred<void>();
  const changes = deferred<{ events: ChangeEvent[]; truncated: boolean }>();
  const registry = new Registry();
  const chat = {
    history: async (...args: unknown[]) => {
      chatCalls.push(['history', ...args]);
      return [message('7')];
    },
    typing: async (...args: unknown[]) => {
      chatCalls.push(['typing', ...args]);
    },
    sendMessage: async (author: Author, channelId: string, content: string) => {
      chatCalls.push(['sendMessage', author, channelId, content]);
      if (content === 'boom') throw new Error('a bug');
      if (content === 'gone') throw new ApiError('not_a_member', 'you are not a member of this channel');
      return { ...message('8'), content };
    },
  };
  const host: SessionHost = {
    serverId: 'test',
    heartbeatIntervalMs: 30_000,
    identifyTimeoutMs: 10_000,
    maxFrameBytes: 4096,
    rateFrames: 1000,
    rateWindowMs: 1000,
    rateBurst: 1000,
    maxBackpressureBytes: 1000,
    slowConsumerGraceMs: 3_600_000,
    resumeMax: 100,
    resumeHorizonMs: 3_600_000,
    attachTimeoutMs: 3_600_000,
    attachMaxMs: 3_600_000,
    maxSocketsPerUser: 5,
    verifyToken: (t) => tokens.verify(t),
    attach: async () => {
      calls.push('attach');
      await attach.promise;
    },
    detach: () => calls.push('detach'),
    channelsOf: async () => {
      calls.push('channelsOf');
      return [channel('10')];
    },
    memberChannels: async () => {
      calls.push('memberChannels');
      return [channel('10')];
    },
    changesSince: async () => {
      calls.push('changesSince');
      return changes.promise;
    },
    userRate: async () => ({ ok: true, retryAfterMs: 0 }),
    services: { chat } as unknown as CommandServices,
    admission: new WriteAdmission({ maxInFlight: admissionMax, maxPerConnection: 10, retryAfterMs: 750 }),
    index: new LocalIndex(),
    metrics: createMetrics(registry, () => 0),
    logger: silent,
    ...over,
  };
  return { host, calls, chatCalls, attach, changes, registry };
}

async function identified(s: Setup): Promise<{ session: Session; sock: TestSocket }> {
  const sock = new TestSocket();
  const session = new Session(sock, s.host);
  session.open();
  const token = await tokens.sign({ userId: '42', username: 'alice' });
  session.message(bytes({ op: Op.IDENTIFY, d: { token } }), false);
  s.attach.resolve();
  while (!sock.events().includes('READY') && !sock.ended) await settle();
  return { session, sock };
}

describe('Session (through its socket port)', () => {
  it('sends HELLO first, attaches before reading channels, and holds events until READY', async () => {
    const s = setup();
    const sock = new TestSocket();
    const session = new Session(sock, s.host);
    session.open();
    assert.equal(sock.frames[0]?.op, Op.HELLO);
    assert.equal(sock.frames[0]?.d.heartbeat_interval, 30_000);
    const token = await tokens.sign({ userId: '42', username: 'alice' });
    session.message(bytes({ op: Op.IDENTIFY, d: { token } }), false);
    while (s.calls.length === 0) await settle();
    assert.deepEqual(s.calls, ['attach'], 'nothing is read before the attachment is in place');
    s.attach.resolve();
    while (!sock.events().includes('READY')) await settle();
    assert.deepEqual(s.calls, ['attach', 'channelsOf']);
    const ready = sock.frames.find((f) => f.t === 'READY');
    assert.equal(ready?.s, 1);
    assert.deepEqual(ready?.d.user, { id: '42', username: 'alice' });
    session.deliver('MESSAGE_CREATE', JSON.stringify(message('5')), 'c:5');
    assert.deepEqual(
      sock.frames.filter((f) => f.op === Op.DISPATCH).map((f) => [f.t, f.s]),
      [
        ['READY', 1],
        ['MESSAGE_CREATE', 2],
      ],
    );
    assert.deepEqual([...s.host.index.membersOfChannel('10')], [session]);
    session.closed();
    assert.deepEqual([...s.host.index.membersOfChannel('10')], []);
    assert.equal(s.calls.at(-1), 'detach');
  });

  it('RESUME replays, then RESUMED, then the live events held meanwhile without the replayed ones', async () => {
    const s = setup();
    const sock = new TestSocket();
    const session = new Session(sock, s.host);
    session.open();
    const token = await tokens.sign({ userId: '42', username: 'alice' });
    session.message(bytes({ op: Op.RESUME, d: { token, since: idNow() } }), false);
    s.attach.resolve();
    while (!s.calls.includes('changesSince')) await settle();
    // Live while the replay is read: one copy of a replayed change, one new change.
    session.deliver('MESSAGE_CREATE', JSON.stringify(message('5')), 'c:5');
    session.deliver('MESSAGE_CREATE', JSON.stringify(message('6')), 'c:6');
    s.changes.resolve({
      events: [{ event: 'MESSAGE_CREATE', event_id: '5', channel_id: '10', data: message('5') as never }],
      truncated: false,
    });
    while (!sock.events().includes('RESUMED')) await settle();
    assert.deepEqual(s.calls, ['attach', 'memberChannels', 'changesSince'], 'RESUME reads no read state');
    const dispatches = sock.frames.filter((f) => f.op === Op.DISPATCH);
    assert.deepEqual(
      dispatches.map((f) => [f.t, f.s, f.d.id]),
      [
        ['MESSAGE_CREATE', 1, '5'],
        ['RESUMED', 2, undefined],
        ['MESSAGE_CREATE', 3, '6'],
      ],
    );
    assert.equal(dispatches[1]?.d.replayed, 1);
    session.deliver('MESSAGE_CREATE', JSON.stringify(message('5')), 'c:5');
    assert.equal(sock.events().length, 3, 'a late live copy of a replayed change is not sent again');
    // Where it waited: one observation per step of the RESUME, none for IDENTIFY.
    const steps = (await s.registry.getSingleMetric('chat_gateway_identify_step_seconds')!.get()).values
      .filter(
        (v) => (v as { metricName?: string }).metricName === 'chat_gateway_identify_step_seconds_count' && v.value > 0,
      )
      .map((v) => `${v.labels.kind} ${v.labels.step} ${v.value}`)
      .sort();
    assert.deepEqual(steps, [
      'resume attach 1',
      'resume channels 1',
      'resume presence 1',
      'resume rate 1',
      'resume replay 1',
      'resume token 1',
    ]);
  });

  it('a dependency that fails during IDENTIFY/RESUME closes 4000 with the failing step in the reason', async () => {
    const down = async () => {
      throw new Error('store down');
    };
    const cases: Array<[string, Partial<SessionHost>, 'IDENTIFY' | 'RESUME', string]> = [
      ['token', { verifyToken: down }, 'RESUME', 'temporarily unavailable (token); reconnect'],
      ['attach', { attach: down }, 'RESUME', 'temporarily unavailable (attach); reconnect'],
      ['channels', { channelsOf: down }, 'IDENTIFY', 'temporarily unavailable (channels); reconnect'],
      ['channels', { memberChannels: down }, 'RESUME', 'temporarily unavailable (channels); reconnect'],
      ['replay', { changesSince: down }, 'RESUME', 'temporarily unavailable (replay); reconnect'],
    ];
    for (const [step, over, op, reason] of cases) {
      const s = setup(over);
      const sock = new TestSocket();
      const session = new Session(sock, s.host);
      session.open();
      const token = await tokens.sign({ userId: '42', username: 'alice' });
      const d = op === 'RESUME' ? { token, since: idNow() } : { token };
      session.message(bytes({ op: op === 'RESUME' ? Op.RESUME : Op.IDENTIFY, d }), false);
      s.attach.resolve();
      while (!sock.ended) await settle();
      assert.deepEqual(sock.ended, { code: Close.UNKNOWN_ERROR, reason }, `${op} failing at ${step}`);
    }
  });

  it('an attach that is not bound in time, with no binding progress, closes 4000 (attach)', async () => {
    const s = setup({ attachTimeoutMs: 10, attachMaxMs: 10, bindingProgressAt: () => 0 });
    const sock = new TestSocket();
    const session = new Session(sock, s.host);
    session.open();
    const token = await tokens.sign({ userId: '42', username: 'alice' });
    session.message(bytes({ op: Op.RESUME, d: { token, since: idNow() } }), false);
    while (!sock.ended) await settle();
    assert.deepEqual(sock.ended, { code: Close.UNKNOWN_ERROR, reason: 'temporarily unavailable (attach); reconnect' });
    session.closed();
    assert.equal(s.calls.at(-1), 'detach', 'the reference the attach took is released');
  });

  it('closes with the protocol close codes on bad input', async () => {
    const s = setup();
    const cases: Array<[string, (session: Session) => void, number]> = [
      [
        'REQUEST before IDENTIFY',
        (x) => x.message(bytes({ op: Op.REQUEST, d: { id: '1', method: 'x' } }), false),
        4003,
      ],
      ['unknown opcode', (x) => x.message(bytes({ op: 99 }), false), 4001],
      ['binary frame', (x) => x.message(bytes({ op: 1 }), true), 4002],
      ['invalid JSON', (x) => x.message(enc.encode('{').buffer as ArrayBuffer, false), 4002],
      ['IDENTIFY without a token', (x) => x.message(bytes({ op: Op.IDENTIFY, d: {} }), false), 4002],
      ['RESUME without since', (x) => x.message(bytes({ op: Op.RESUME, d: { token: 't' } }), false), 4002],
      ['frame too large', (x) => x.message(bytes({ op: 1, d: 'x'.repeat(5000) }), false), 4010],
      ['no IDENTIFY in time', (x) => x.tick(Date.now() + 10_001), 4009],
    ];
    for (const [what, act, code] of cases) {
      const sock = new TestSocket();
      const session = new Session(sock, s.host);
      session.open();
      act(session);
      assert.equal(sock.closeCode(), code, what);
    }
    assert.equal(Close.GOING_AWAY, 1001);
  });

  it('closes 4004 on a bad token and 4005 on a second IDENTIFY', async () => {
    const s = setup();
    const sock = new TestSocket();
    const session = new Session(sock, s.host);
    session.open();
    session.message(bytes({ op: Op.IDENTIFY, d: { token: 'forged' } }), false);
    while (!sock.ended) await settle();
    assert.equal(sock.closeCode(), 4004);
    const again = await identified(setup());
    again.session.message(bytes({ op: Op.IDENTIFY, d: { token: 'x' } }), false);
    assert.equal(again.sock.closeCode(), 4005);
  });

  it('under backpressure skips ephemeral events, keeps chat events, and closes 4008 at twice the limit', async () => {
    const s = setup();
    const { session, sock } = await identified(s);
    sock.buffered = 1500;
    session.deliver('TYPING_START', '{"channel_id":"10"}', undefined);
    session.deliver('MESSAGE_CREATE', JSON.stringify(message('5')), 'c:5');
    assert.deepEqual(sock.events(), ['READY', 'MESSAGE_CREATE'], 'typing skipped, the message kept');
    assert.equal(sock.ended, undefined, 'within the grace: still open');
    sock.buffered = 2001;
    session.deliver('MESSAGE_CREATE', JSON.stringify(message('6')), 'c:6');
    assert.equal(sock.closeCode(), Close.RATE_LIMITED);
    assert.deepEqual(sock.events(), ['READY', 'MESSAGE_CREATE']);
    const metrics = await s.registry.getSingleMetricAsString('chat_gateway_slow_consumer_closes_total');
    assert.match(metrics, / 1$/m);
  });

  it('dispatches REQUESTs through the command table, one RESPONSE each', async () => {
    const s = setup();
    const { session, sock } = await identified(s);
    const request = (id: string, method: string, params: unknown) =>
      session.message(bytes({ op: Op.REQUEST, d: { id, method, params } }), false);
    request('h', 'history.get', { channel_id: '10', limit: 5 });
    request('t', 'typing.start', { channel_id: '10' });
    request('m', 'message.create', { channel_id: '10', content: 'hi' });
    request('u', 'nope', {});
    request('l', 'session.create', { username: 'a', password: 'b' });
    request('f', 'history.get', { channel_id: '10', extra: 1 });
    request('i', 'history.get', { channel_id: 'x' });
    request('b', 'message.create', { channel_id: '10', content: 'boom' });
    request('g', 'message.create', { channel_id: '10', content: 'gone' });
    while (sock.frames.filter((f) => f.op === Op.RESPONSE).length < 9) await settle();
    assert.deepEqual(sock.response('h')?.result, [message('7')]);
    assert.deepEqual(s.chatCalls[0], ['history', '42', '10', { before: undefined, after: undefined, limit: 5 }]);
    assert.deepEqual(sock.response('t'), { id: 't', ok: true, result: null });
    assert.deepEqual(s.chatCalls[1]?.slice(1), [{ id: '42', username: 'alice' }, '10']);
    assert.deepEqual(sock.response('m')?.result, { ...message('8'), content: 'hi' });
    assert.equal(sock.response('u')?.error?.code, 'invalid_request', 'unknown method');
    assert.equal(sock.response('l')?.error?.code, 'invalid_request', 'an HTTP-only command is no REQUEST method');
    assert.equal(sock.response('f')?.error?.code, 'unknown_field');
    assert.equal(sock.response('i')?.error?.code, 'invalid_request');
    assert.equal(sock.response('b')?.error?.code, 'internal');
    assert.equal(sock.response('g')?.error?.code, 'not_a_member');
    assert.equal(s.chatCalls.length, 5, 'refused params never reach the chat service');
    assert.equal(sock.ended, undefined);
  });

  it('refuses a durable REQUEST past admission with overloaded, and any REQUEST past the user budget', async () => {
    const s = setup({}, 0);
    const { session, sock } = await identified(s);
    session.message(bytes({ op: Op.REQUEST, d: { id: 'w', method: 'message.create', params: {} } }), false);
    session.message(
      bytes({ op: Op.REQUEST, d: { id: 'r', method: 'history.get', params: { channel_id: '10' } } }),
      false,
    );
    while (sock.frames.filter((f) => f.op === Op.RESPONSE).length < 2) await settle();
    assert.deepEqual(sock.response('w')?.error, {
      code: 'overloaded',
      message: 'this gateway has too many writes in flight; retry later',
      retry_after_ms: 750,
    });
    assert.equal(sock.response('r')?.ok, true, 'reads do not pass admission');
    const limited = setup({ userRate: async () => ({ ok: false, retryAfterMs: 1500 }) });
    const other = await identified(limited);
    other.session.message(bytes({ op: Op.REQUEST, d: { id: 'x', method: 'history.get', params: {} } }), false);
    while (!other.sock.response('x')) await settle();
    assert.equal(other.sock.response('x')?.error?.code, 'rate_limited');
    assert.equal(limited.chatCalls.length, 0);
  });

  it('closes a REQUEST without an id 4002', async () => {
    const { session, sock } = await identified(setup());
    session.message(bytes({ op: Op.REQUEST, d: { method: 'history.get' } }), false);
    assert.equal(sock.closeCode(), Close.DECODE_ERROR);
  });
});
