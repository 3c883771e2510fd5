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

  it('a slow whole path limits the write rate below what comes back, and lifts the limit when fast again', () => {
    let now = 0;
    const refused: string[] = [];
    const a = new WriteAdmission({
      maxInFlight: 10_000,
      maxPerConnection: 10_000,
      retryAfterMs: 1,
      pathTargetMs: 200,
      now: () => now,
      onRefused: (r) => refused.push(r),
    });
    /** Offers one write per ms from `from` to `to`; `back(ms)` says whether one comes back in that ms, and after how long. */
    const run = (from: number, to: number, back: (ms: number) => number | null) => {
      let admitted = 0;
      for (let ms = from; ms < to; ms++) {
        now = ms;
        try {
          a.enter()();
          admitted++;
        } catch (err) {
          assert.equal((err as ApiError).code, 'overloaded');
        }
        const latency = back(ms);
        if (latency !== null) a.observePath(latency);
      }
      return admitted;
    };
    assert.equal(
      run(0, 1000, () => 100),
      1000,
      'under the target: nothing limited',
    );
    assert.equal(a.pathRate, Number.POSITIVE_INFINITY);
    // The path slows down: 400 writes/s come back, after 800 ms, while 1,000/s are offered.
    run(1000, 3000, (ms) => (ms % 5 < 2 ? 800 : null));
    const limited = run(3000, 4000, (ms) => (ms % 5 < 2 ? 800 : null));
    // About what comes back (400/s), far below what is offered: cut to 400 × clamp(200 / 800, 0.7, 0.9) =
    // 280/s whenever more than 1.2× of it was admitted, probing up by 5 % per interval in between.
    assert.ok(limited >= 250 && limited <= 500, `admitted ${limited}/s`);
    assert.ok(refused.length > 0 && refused.every((r) => r === 'latency'), 'refused as latency');
    // Fast again: everything admitted comes back in 20 ms; the limit grows and is lifted within 5 s.
    run(4000, 9000, () => 20);
    assert.equal(a.pathRate, Number.POSITIVE_INFINITY, 'lifted');
    const before = refused.length;
    assert.equal(
      run(9000, 10_000, () => 20),
      1000,
      'everything admitted again',
    );
    assert.equal(refused.length, before);
    const off = new WriteAdmission({ maxInFlight: 8, maxPerConnection: 8, retryAfterMs: 1, pathTargetMs: 0 });
    off.observePath(60_000);
    assert.equal(off.pathRate, Number.POSITIVE_INFINITY, '0 disables it');
    assert.equal(off.limit, 8);
  });

  it('a path slower than the target but keeping up (everything admitted comes back) is not cut', () => {
    // Cutting it would compound: what comes back follows what was admitted (measured: W1 at 1,000/s fell
    // to 493/s delivered with a controller that cut on latency alone).
    let now = 0;
    const a = new WriteAdmission({
      maxInFlight: 10_000,
      maxPerConnection: 10_000,
      retryAfterMs: 1,
      pathTargetMs: 200,
      now: () => now,
    });
    let admitted = 0;
    for (let ms = 0; ms < 5000; ms++) {
      now = ms;
      try {
        a.enter()();
        admitted++;
        a.observePath(400);
      } catch {}
    }
    assert.equal(admitted, 5000);
    assert.equal(a.pathRate, Number.POSITIVE_INFINITY);
  });

  it('a stalled path (nothing comes back) still lets a trickle through, so the limit can lift', () => {
    let now = 0;
    const a = new WriteAdmission({
      maxInFlight: 10_000,
      maxPerConnection: 10_000,
      retryAfterMs: 1,
      pathTargetMs: 100,
      now: () => now,
    });
    a.observePath(5000);
    let admitted = 0;
    for (let ms = 0; ms < 5000; ms++) {
      now = ms;
      try {
        a.enter()();
        if (ms >= 4000) admitted++;
      } catch {}
    }
    assert.ok(a.pathRate >= 20 && a.pathRate < 1000, String(a.pathRate));
    assert.ok(admitted >= 15 && admitted < 100, `admitted ${admitted} in the last second`);
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
