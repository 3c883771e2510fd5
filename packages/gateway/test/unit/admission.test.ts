import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorResponse } from '@chat/protocol';
import { WriteAdmission } from '../../src/admission.js';
import { ApiError } from '../../src/errors.js';

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return err;
  }
  throw new Error('expected a refusal');
}

describe('write admission', () => {
  it('refuses past the process bound with overloaded and the retry hint, and admits again after a release', () => {
    const refused: string[] = [];
    const a = new WriteAdmission({
      maxInFlight: 2,
      maxPerConnection: 10,
      retryAfterMs: 750,
      onRefused: (r) => refused.push(r),
    });
    const r1 = a.enter();
    a.enter({ inFlight: 0 });
    const e = refusal(() => a.enter());
    assert.equal(e.code, 'overloaded');
    assert.equal(e.status, 503);
    assert.equal(e.retryAfterMs, 750);
    assert.deepEqual(refused, ['gateway']);
    r1();
    r1(); // idempotent
    assert.equal(a.inFlight, 1);
    a.enter();
    assert.equal(a.inFlight, 2);
  });

  it('bounds one connection without touching the others', () => {
    const a = new WriteAdmission({ maxInFlight: 100, maxPerConnection: 2, retryAfterMs: 1 });
    const c1 = { inFlight: 0 };
    const c2 = { inFlight: 0 };
    const release = a.enter(c1);
    a.enter(c1);
    assert.equal(refusal(() => a.enter(c1)).code, 'overloaded');
    a.enter(c2);
    assert.equal(c1.inFlight, 2);
    assert.equal(a.inFlight, 3);
    release();
    assert.equal(c1.inFlight, 1);
    a.enter(c1);
  });

  it('slow confirms shrink the process bound (never below 1/16), and fast ones restore it', () => {
    const refused: string[] = [];
    const a = new WriteAdmission({
      maxInFlight: 64,
      maxPerConnection: 64,
      retryAfterMs: 1,
      confirmTargetMs: 100,
      onRefused: (r) => refused.push(r),
    });
    assert.equal(a.limit, 64, 'no sample yet');
    a.observeConfirm(50);
    assert.equal(a.limit, 64, 'under the target');
    a.observeConfirm(400); // average 50 + 0.1 × 350 = 85: still under
    assert.equal(a.limit, 64);
    for (let i = 0; i < 50; i++) a.observeConfirm(400);
    assert.ok(a.limit >= 16 && a.limit <= 17, String(a.limit)); // 64 × 100 / ~400
    for (let i = 0; i < 16; i++) a.enter();
    while (a.inFlight < a.limit) a.enter();
    assert.equal(refusal(() => a.enter()).code, 'overloaded');
    assert.deepEqual(refused, ['latency']);
    for (let i = 0; i < 100; i++) a.observeConfirm(10_000);
    assert.equal(a.limit, 4, 'the floor: 1/16 of the bound');
    for (let i = 0; i < 200; i++) a.observeConfirm(5);
    assert.equal(a.limit, 64, 'fast confirms restore it');
    const off = new WriteAdmission({ maxInFlight: 8, maxPerConnection: 8, retryAfterMs: 1, confirmTargetMs: 0 });
    off.observeConfirm(60_000);
    assert.equal(off.limit, 8, '0 disables it');
  });

  it("refuses with 'latency' while the whole path's window is full, and not when it is off", () => {
    let now = 0;
    const refused: string[] = [];
    const a = new WriteAdmission({
      maxInFlight: 64,
      maxPerConnection: 64,
      retryAfterMs: 1,
      pathTargetMs: 200,
      now: () => now,
      onRefused: (r) => refused.push(r),
    });
    let id = 0;
    // 400 writes per 250 ms interval, 200 of them back after 1 s each: a backlog building on a slow path.
    for (let i = 0; i < 6; i++) {
      for (let k = 0; k < 400; k++) a.pathConfirmed(String(id++));
      for (let k = 0; k < 200; k++) a.pathCameBack(String(id - 400 + k), 1000);
      now += 250;
    }
    const path = a.path!;
    assert.ok(path.onPath > path.limit, JSON.stringify(path));
    assert.equal(refusal(() => a.enter()).code, 'overloaded');
    assert.deepEqual(refused, ['latency']);
    assert.equal(a.inFlight, 0);
    const off = new WriteAdmission({ maxInFlight: 8, maxPerConnection: 8, retryAfterMs: 1, pathTargetMs: 0 });
    for (let k = 0; k < 100; k++) off.pathConfirmed(String(k));
    assert.equal(off.path, undefined, '0 disables it');
    off.enter()();
  });

  it('run releases on success and on failure', async () => {
    const a = new WriteAdmission({ maxInFlight: 1, maxPerConnection: 1, retryAfterMs: 1 });
    assert.equal(await a.run(async () => 7), 7);
    await assert.rejects(
      a.run(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(a.inFlight, 0);
  });

  it('a RESPONSE error carries retry_after_ms only when there is a hint', () => {
    assert.deepEqual(JSON.parse(errorResponse('r1', 'overloaded', 'busy', 500)), {
      op: 21,
      d: { id: 'r1', ok: false, error: { code: 'overloaded', message: 'busy', retry_after_ms: 500 } },
    });
    assert.deepEqual(JSON.parse(errorResponse('r2', 'not_found', 'no')).d.error, { code: 'not_found', message: 'no' });
  });
});
