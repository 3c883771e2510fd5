import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check } from '../../src/checker.js';
import type { ClientEvent, History } from '../../src/history.js';
import { DELIVERING_WINDOW_MS } from '../../src/recovery.js';
import { baseHistory, copy, idAt, M1, T0 } from './fixture.js';

function rules(h: History, strictLiveOrder = false): string[] {
  return [...new Set(check(h, { strictLiveOrder }).violations.map((v) => v.rule))].sort();
}

describe('checker', () => {
  it('passes a correct history and counts what happened', () => {
    const r = check(baseHistory());
    assert.deepEqual(r.violations, []);
    assert.equal(r.ok, true);
    assert.equal(r.stats.acked, 1);
    assert.equal(r.stats.delivered, 2);
    assert.equal(r.firstStory, null);
  });

  it('an acked message that is not stored (and so reached nobody owed it)', () => {
    const h = baseHistory();
    h.stored = [];
    assert.deepEqual(rules(h), ['acked-not-stored']);
  });

  it('one write stored twice', () => {
    const h = baseHistory();
    h.stored.push({ ...h.stored[0]!, id: idAt(T0 + 12) });
    assert.ok(rules(h).includes('stored-twice'));
  });

  it('an ack naming another message than the one stored for its nonce', () => {
    const h = baseHistory();
    h.events.push({
      kind: 'ack',
      at: T0 + 40,
      client: 'a',
      channel: 'C',
      nonce: 'n1',
      id: idAt(T0 + 13),
      gateway: 'gw1',
    });
    assert.ok(rules(h).includes('acked-not-stored'));
    h.stored.push({ ...h.stored[0]!, id: idAt(T0 + 13), nonce: 'other' });
    assert.ok(rules(h).includes('acked-other-id'));
  });

  it('a write refused with definite codes (overloaded, not_a_member) that was stored anyway', () => {
    const h = baseHistory();
    const id = idAt(T0 + 50);
    h.events.push(
      { kind: 'send', at: T0 + 49, client: 'a', channel: 'C', nonce: 'n2', content: 'x' },
      { kind: 'refused', at: T0 + 51, client: 'a', channel: 'C', nonce: 'n2', code: 'overloaded' },
      ...copy('a', T0 + 60, id),
      ...copy('b', T0 + 60, id),
    );
    h.stored.push({ id, channel: 'C', author: 'A', nonce: 'n2', content: 'hello', deleted: false });
    assert.deepEqual(rules(h), ['refused-stored']);
    h.events.push({ kind: 'refused', at: T0 + 52, client: 'a', channel: 'C', nonce: 'n2', code: 'not_a_member' });
    assert.deepEqual(rules(h), ['refused-stored']);
    const drop = { kind: 'state', at: T0 + 50, client: 'a', state: 'reconnecting', code: 4008 } as const;
    h.events.push(drop);
    assert.ok(
      !rules(h).includes('refused-stored'),
      'a refusal after a reconnect may answer a resend of a stored write',
    );
    h.events.splice(h.events.indexOf(drop), 1);
    h.events.push({ kind: 'refused', at: T0 + 53, client: 'a', channel: 'C', nonce: 'n2', code: 'unavailable' });
    assert.deepEqual(rules(h), []);
  });

  it('a member that was connected and did not see a stored message', () => {
    const h = baseHistory();
    h.events = h.events.filter((e) => !(e.client === 'b' && (e.kind === 'view' || e.kind === 'dispatch')));
    const r = check(h);
    assert.deepEqual(rules(h), ['not-delivered']);
    assert.equal(r.stats.missing, 1);
    assert.match(r.firstStory!, /not-delivered/);
    assert.match(r.firstStory!, /a ack/);
    assert.match(r.firstStory!, /stored: .*"nonce":"n1"/);
  });

  it('a message issued before the member was READY is not owed to it', () => {
    const h = baseHistory();
    h.events = h.events.filter((e) => !(e.client === 'b' && (e.kind === 'view' || e.kind === 'dispatch')));
    for (const e of h.events) if (e.client === 'b') e.at = T0 + 500;
    assert.deepEqual(rules(h), []);
  });

  it('the SDK passing the same message on twice', () => {
    const h = baseHistory();
    h.events.push(...copy('b', T0 + 40, M1));
    assert.deepEqual(rules(h), ['seen-twice']);
    assert.equal(check(h).stats.duplicated, 1);
  });

  it('a raw duplicate the SDK dropped is counted, not a violation', () => {
    const h = baseHistory();
    h.events.push({ ...copy('b', T0 + 40, M1)[0]! });
    const r = check(h);
    assert.deepEqual(r.violations, []);
    assert.equal(r.stats.wireDuplicates, 1);
  });

  it('a client that saw a channel it is not a member of', () => {
    const h = baseHistory();
    h.members.D = ['A'];
    h.events.push(...copy('b', T0 + 40, idAt(T0 + 39), 1, 'D'));
    assert.ok(rules(h).includes('foreign-channel'));
  });

  it('a RESUME replay out of id order', () => {
    const h = baseHistory();
    const [m2, m3] = [idAt(T0 + 100), idAt(T0 + 101)];
    h.stored.push(
      { id: m2, channel: 'C', author: 'A', nonce: null, content: 'hello', deleted: false },
      { id: m3, channel: 'C', author: 'A', nonce: null, content: 'hello', deleted: false },
    );
    h.events.push(
      ...copy('a', T0 + 110, m2),
      ...copy('a', T0 + 110, m3),
      { kind: 'state', at: T0 + 200, client: 'b', state: 'reconnecting', code: 1006 },
      ...copy('b', T0 + 300, m3, 2),
      ...copy('b', T0 + 301, m2, 2),
      { kind: 'resumed', at: T0 + 302, client: 'b', conn: 2, gateway: 'gw1', truncated: false },
      { kind: 'state', at: T0 + 302, client: 'b', state: 'open', code: null },
    );
    assert.deepEqual(rules(h), ['replay-out-of-order']);
  });

  it('live events of a channel out of id order: counted, a violation only when strict', () => {
    const h = baseHistory();
    const m0 = idAt(T0 + 5);
    h.stored.push({ id: m0, channel: 'C', author: 'A', nonce: null, content: 'hello', deleted: false });
    h.events.push(...copy('a', T0 + 40, m0), ...copy('b', T0 + 40, m0));
    assert.deepEqual(rules(h), []);
    assert.equal(check(h).stats.outOfOrder, 2);
    assert.deepEqual(rules(h, true), ['live-out-of-order']);
  });

  it('an acked edit the store lost, and the clients that still show the old content', () => {
    const h = baseHistory();
    h.events.push({ kind: 'edit', at: T0 + 40, client: 'a', channel: 'C', id: M1, content: 'edited', outcome: 'ok' });
    assert.deepEqual(rules(h), ['edit-lost']);
    h.stored[0]!.content = 'edited';
    assert.deepEqual(rules(h), ['view-diverged']);
    h.events.push(
      { kind: 'view', at: T0 + 50, client: 'a', event: 'update', channel: 'C', id: M1, content: 'edited' },
      { kind: 'view', at: T0 + 50, client: 'b', event: 'update', channel: 'C', id: M1, content: 'edited' },
    );
    assert.deepEqual(rules(h), []);
  });

  it('an unanswered edit may or may not have been applied', () => {
    const h = baseHistory();
    h.events.push({
      kind: 'edit',
      at: T0 + 40,
      client: 'a',
      channel: 'C',
      id: M1,
      content: 'maybe',
      outcome: 'unknown',
    });
    assert.deepEqual(rules(h), []);
    h.stored[0]!.content = 'other';
    assert.ok(rules(h).includes('edit-lost'));
  });

  it('an acked delete the store lost', () => {
    const h = baseHistory();
    h.events.push({ kind: 'delete', at: T0 + 40, client: 'a', channel: 'C', id: M1, content: null, outcome: 'ok' });
    assert.deepEqual(rules(h), ['delete-lost']);
  });

  it('a member not connected at the end of the run', () => {
    const h = baseHistory();
    h.events.push({ kind: 'state', at: T0 + 1500, client: 'b', state: 'reconnecting', code: 1006 });
    assert.deepEqual(rules(h), ['not-reconnected']);
  });

  it('recovery: the first ack and the first delivery on every gateway after a fault', () => {
    const h = baseHistory();
    h.faults.push({
      name: 'sigkill',
      target: 'persister-0',
      component: 'persister',
      start: T0 + 15,
      end: T0 + 25,
      recoverFrom: T0 + 15,
    });
    const raw = (at: number) => ({ ...copy('b', at, M1)[0]!, gateway: 'gw1' }) as ClientEvent;
    h.events.push(raw(T0 + 29));
    h.events.unshift(raw(T0 + 1));
    const [r] = check(h).recoveries;
    assert.equal(r!.firstAckMs, 5);
    assert.equal(r!.allGatewaysDeliverMs, 14);
    assert.equal(r!.goalMs, 5000);
    h.faults[0] = { ...h.faults[0]!, target: 'gw1', component: 'gateway' };
    assert.equal(check(h).recoveries[0]!.allGatewaysDeliverMs, 0, 'the killed gateway itself is not waited for');
  });

  it('recovery: a gateway that had stopped delivering long before the fault is not waited for', () => {
    const h = baseHistory();
    const start = T0 + DELIVERING_WINDOW_MS + 1000;
    h.faults.push({
      name: 'sigterm',
      target: 'p1',
      component: 'persister',
      start,
      end: start + 10,
      recoverFrom: start,
    });
    const on = (gateway: string, at: number) => ({ ...copy('b', at, M1)[0]!, gateway }) as ClientEvent;
    // gw2 delivered once, long before; gw1 right before the fault and 30 ms after it.
    h.events.unshift(on('gw2', T0 + 1), on('gw1', start - 100));
    h.events.push(on('gw1', start + 30));
    assert.equal(check(h).recoveries[0]!.allGatewaysDeliverMs, 30);
    // Had gw2 delivered within the window, it would be waited for (and never delivers again: null).
    h.events.unshift(on('gw2', start - DELIVERING_WINDOW_MS + 1));
    assert.equal(check(h).recoveries[0]!.allGatewaysDeliverMs, null);
  });
});
