// RequestCorrelator through its port: a transport that records frames and says whether a session is
// up. Timeouts and overload backoff run on node:test's mock timers, so no test waits on a clock.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { silentLogger } from '@chat/protocol';
import {
  ChatRequestError,
  ClientClosedError,
  ConnectionLostError,
  ProtocolError,
  RequestTimeoutError,
} from '../../src/index.js';
import { RequestCorrelator, type RequestTransport } from '../../src/internal/requests.js';

class Transport implements RequestTransport {
  session = true;
  open = true;
  readonly frames: Array<{ op: number; d: { id: string; method: string; params: unknown } }> = [];
  trySend(frame: string): boolean {
    if (!this.session) return false;
    this.frames.push(JSON.parse(frame));
    return true;
  }
  wantsOpen(): boolean {
    return this.open;
  }
  lastId(): string {
    return this.frames.at(-1)!.d.id;
  }
}

const noRetry = { maxRetries: 0, initialDelayMs: 100, maxDelayMs: 1000 };

function correlator(t: Transport, maxPending = 100, overloadRetry = noRetry): RequestCorrelator {
  return new RequestCorrelator(t, { overloadRetry, maxPending, log: silentLogger });
}

/** Lets pending promise reactions run (the mocked timers do not move). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('request correlation', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());

  it('matches each RESPONSE to its request by id, whatever the order', async () => {
    const t = new Transport();
    const c = correlator(t);
    const a = c.request('history.get', { channel_id: '1' }, 1000);
    const b = c.request('typing.start', { channel_id: '2' }, 1000);
    assert.deepEqual(
      t.frames.map((f) => [f.op, f.d.method, f.d.params]),
      [
        [20, 'history.get', { channel_id: '1' }],
        [20, 'typing.start', { channel_id: '2' }],
      ],
    );
    const [idA, idB] = t.frames.map((f) => f.d.id);
    assert.notEqual(idA, idB);
    assert.equal(c.onResponse({ id: idB, ok: true, result: null }), null);
    assert.equal(c.onResponse({ id: idA, ok: true, result: ['m'] }), null);
    assert.deepEqual(await a, ['m']);
    assert.equal(await b, null);
    assert.equal(c.size, 0);
  });

  it('rejects with the server error of a RESPONSE with ok: false', async () => {
    const t = new Transport();
    const c = correlator(t);
    const p = c.request('message.delete', { channel_id: '1', message_id: '2' }, 1000);
    c.onResponse({ id: t.lastId(), ok: false, error: { code: 'forbidden', message: 'not yours' } });
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof ChatRequestError);
      assert.equal(err.code, 'forbidden');
      assert.equal(err.method, 'message.delete');
      return true;
    });
  });

  it('holds requests made without a session and sends them in order at flush()', async () => {
    const t = new Transport();
    t.session = false;
    const c = correlator(t);
    const first = c.request('typing.start', { channel_id: '1' }, 1000);
    const second = c.request('typing.start', { channel_id: '2' }, 1000);
    assert.equal(t.frames.length, 0);
    assert.equal(c.size, 2);
    t.session = true;
    c.flush();
    assert.deepEqual(
      t.frames.map((f) => f.d.params),
      [{ channel_id: '1' }, { channel_id: '2' }],
    );
    for (const f of t.frames) c.onResponse({ id: f.d.id, ok: true, result: null });
    await Promise.all([first, second]);
  });

  it('times out with the request attached, and ignores the late RESPONSE', async () => {
    const t = new Transport();
    const c = correlator(t);
    const p = c.request('message.create', { channel_id: '1', content: 'x', nonce: 'n' }, 500);
    const id = t.lastId();
    mock.timers.tick(500);
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof RequestTimeoutError);
      assert.deepEqual(err.request, {
        method: 'message.create',
        params: { channel_id: '1', content: 'x', nonce: 'n' },
      });
      return true;
    });
    assert.equal(c.size, 0);
    assert.equal(c.onResponse({ id, ok: true, result: null }), null, 'late answers are not an error');
  });

  it('a waiting request times out too, and is not sent afterwards', async () => {
    const t = new Transport();
    t.session = false;
    const c = correlator(t);
    const p = c.request('typing.start', { channel_id: '1' }, 300);
    mock.timers.tick(300);
    await assert.rejects(p, RequestTimeoutError);
    t.session = true;
    c.flush();
    assert.equal(t.frames.length, 0);
  });

  it('fails the requests sent on a lost connection, and keeps the waiting ones', async () => {
    const t = new Transport();
    const c = correlator(t);
    const sent = c.request('message.update', { channel_id: '1', message_id: '2', content: 'y' }, 1000);
    t.session = false;
    const waiting = c.request('typing.start', { channel_id: '1' }, 1000);
    c.connectionLost('connection closed: 1006');
    await assert.rejects(sent, (err: unknown) => {
      assert.ok(err instanceof ConnectionLostError);
      assert.match(err.message, /1006/);
      assert.equal(err.request?.method, 'message.update');
      return true;
    });
    assert.equal(c.size, 1);
    t.session = true;
    c.flush();
    c.onResponse({ id: t.lastId(), ok: true, result: null });
    assert.equal(await waiting, null);
  });

  it('failAll rejects sent and waiting requests with the given error', async () => {
    const t = new Transport();
    const c = correlator(t);
    const sent = c.request('typing.start', { channel_id: '1' }, 1000);
    t.session = false;
    const waiting = c.request('typing.start', { channel_id: '2' }, 1000);
    const err = new ClientClosedError('closed');
    c.failAll(err);
    await assert.rejects(sent, (e) => e === err);
    await assert.rejects(waiting, (e) => e === err);
    assert.equal(c.size, 0);
  });

  it('refuses requests when no session is wanted', async () => {
    const t = new Transport();
    t.open = false;
    await assert.rejects(correlator(t).request('typing.start', {}, 1000), ClientClosedError);
    assert.equal(t.frames.length, 0);
  });

  it('is bounded: one request over maxPending is refused as overloaded, nothing sent', async () => {
    const t = new Transport();
    const c = correlator(t, 2);
    const held = [c.request('typing.start', { channel_id: '1' }, 1000), c.request('typing.start', {}, 1000)];
    await assert.rejects(c.request('typing.start', { channel_id: '3' }, 1000), (err: unknown) => {
      assert.ok(err instanceof ChatRequestError);
      assert.equal(err.code, 'overloaded');
      assert.equal(err.retryable, true);
      return true;
    });
    assert.equal(t.frames.length, 2);
    c.failAll(new ClientClosedError('done'));
    await Promise.allSettled(held);
  });

  it('sends the same request again after an overloaded answer, no earlier than the hint', async () => {
    const t = new Transport();
    const c = correlator(t, 100, { maxRetries: 2, initialDelayMs: 10, maxDelayMs: 10 });
    const params = { channel_id: '1', content: 'x', nonce: 'same' };
    const p = c.request('message.create', params, 60_000);
    c.onResponse({ id: t.lastId(), ok: false, error: { code: 'overloaded', message: 'busy', retry_after_ms: 400 } });
    await settle();
    mock.timers.tick(399);
    await settle();
    assert.equal(t.frames.length, 1, 'not before the hint');
    mock.timers.tick(201); // the hint plus at most 50 % jitter
    await settle();
    assert.equal(t.frames.length, 2);
    assert.deepEqual(t.frames[1]!.d.params, params, 'same params, same nonce');
    c.onResponse({ id: t.lastId(), ok: true, result: { id: '9' } });
    assert.deepEqual(await p, { id: '9' });
  });

  it('retries unavailable only for a message.create with a nonce (the server deduplicates it)', async () => {
    const t = new Transport();
    const c = correlator(t, 100, { maxRetries: 2, initialDelayMs: 10, maxDelayMs: 10 });
    const down = { code: 'unavailable', message: 'redis down', retry_after_ms: 100 };
    const params = { channel_id: '1', content: 'x', nonce: 'same' };
    const p = c.request('message.create', params, 60_000);
    c.onResponse({ id: t.lastId(), ok: false, error: down });
    await settle();
    mock.timers.tick(151);
    await settle();
    assert.equal(t.frames.length, 2);
    assert.deepEqual(t.frames[1]!.d.params, params, 'same params, same nonce');
    c.onResponse({ id: t.lastId(), ok: true, result: { id: '9' } });
    assert.deepEqual(await p, { id: '9' });

    const edit = c.request('message.update', { channel_id: '1', message_id: '9', content: 'y' }, 60_000);
    c.onResponse({ id: t.lastId(), ok: false, error: down });
    await assert.rejects(edit, (err: ChatRequestError) => err.code === 'unavailable');
    const noNonce = c.request('message.create', { channel_id: '1', content: 'x' }, 60_000);
    c.onResponse({ id: t.lastId(), ok: false, error: down });
    await assert.rejects(noNonce, (err: ChatRequestError) => err.code === 'unavailable');
    assert.equal(t.frames.length, 4, 'neither was sent again');
  });

  it('reports a malformed RESPONSE as a ProtocolError and settles nothing', () => {
    const t = new Transport();
    const c = correlator(t);
    void c.request('typing.start', {}, 1000).catch(() => {});
    assert.ok(c.onResponse({ ok: true }) instanceof ProtocolError);
    assert.equal(c.size, 1);
    c.failAll(new ClientClosedError('done'));
  });
});
