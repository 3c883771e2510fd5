import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundlesOf, decodeBundle, encodeRecord } from '../../src/internal/dispatch-bundle.js';
import { textDispatch } from './fake-delivery.js';

const env = textDispatch;

describe('dispatch bundle codec', () => {
  it('round-trips records whose ids, keys and contents hold separators and non-ASCII text', () => {
    const texts = ['plain', 'tab\there', 'line\nbreak', 'crlf\r\n', 'Zoë 🐇', '"quoted"\\'];
    const body = texts.map((t, i) => encodeRecord(`id\t${i}`, [`u.we\nird${i}`, 's.3'], env(t))).join('');
    const bad: string[] = [];
    const records = decodeBundle(body, (r) => bad.push(r));
    assert.deepEqual(bad, []);
    assert.deepEqual(
      records.map((r) => [r.id, r.keys, JSON.parse(r.envelopeJson)]),
      texts.map((t, i) => [`id\t${i}`, [`u.we\nird${i}`, 's.3'], env(t)]),
    );
  });

  it('skips and reports malformed lines, keeping the good ones', () => {
    const good = encodeRecord('a', ['s.1'], env('x'));
    const body = `no tab here\n[1,["s.1"]]\t{}\n["b",[2]]\t{}\n{oops\t{}\n${good}`;
    const bad: string[] = [];
    const records = decodeBundle(body, (r) => bad.push(r));
    assert.equal(bad.length, 4);
    assert.deepEqual(
      records.map((r) => r.id),
      ['a'],
    );
  });

  it('splits into bundles of at most 256 records and about 256 KiB, in order', () => {
    const small = Array.from({ length: 600 }, (_, i) => ({ line: `${i}\n` }));
    assert.deepEqual(
      [...bundlesOf(small)].map((b) => b.length),
      [256, 256, 88],
    );
    const big = Array.from({ length: 10 }, (_, i) => ({ line: `${i}`.padEnd(100 * 1024, 'x') }));
    const bundles = [...bundlesOf(big)];
    assert.deepEqual(
      bundles.map((b) => b.length),
      [2, 2, 2, 2, 2],
    );
    assert.deepEqual(bundles.flat(), big);
    // One record larger than the limit still goes out, alone.
    assert.deepEqual(
      [...bundlesOf([{ line: 'y'.repeat(300 * 1024) }])].map((b) => b.length),
      [1],
    );
  });
});
