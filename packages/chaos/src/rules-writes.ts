// The rules about what was stored: every acked message is stored exactly once, under the id the ack
// named; no write (acked, refused or unanswered) is stored twice; a write every attempt of which was
// refused with a definite code (anything but `unavailable` and `internal`, which docs/protocol.md §7 says
// may have stored it; `overloaded` says "not stored") is not stored; edits and deletes converge.
import type { HistoryIndex } from './history-index.js';
import { nonceKey } from './history-index.js';
import type { Violation } from './violation.js';

/** Refusals after which the write may still have been stored. */
const MAYBE_STORED = new Set(['unavailable', 'internal']);

/** Acked writes, and every nonce: stored at most once, acked ones exactly once under the acked id. */
export function checkStoredOnce(ix: HistoryIndex): Violation[] {
  const out: Violation[] = [];
  for (const [key, attempts] of ix.attemptsByNonce) {
    const stored = ix.storedByNonce.get(key) ?? [];
    const acks = attempts.filter((e) => e.kind === 'ack');
    const first = attempts[0]!;
    const where = { nonceKey: key, client: first.client };
    if (stored.length > 1) {
      out.push({
        rule: 'stored-twice',
        ...where,
        id: stored[0]!.id,
        detail: `${stored.length} documents for one nonce`,
      });
      continue;
    }
    for (const ack of acks) {
      if (ack.kind !== 'ack') continue;
      if (!ix.storedById.has(ack.id)) {
        out.push({ rule: 'acked-not-stored', ...where, id: ack.id, detail: `acked at ${ack.at}, not in the store` });
      } else if (stored.length === 1 && stored[0]!.id !== ack.id) {
        out.push({ rule: 'acked-other-id', ...where, id: ack.id, detail: `stored as ${stored[0]!.id}` });
      }
    }
    const outcomes = attempts.filter((e) => e.kind !== 'send');
    // The SDK's send() resends after a dropped connection, so a refusal that follows a reconnect may
    // answer a resend of a write whose first attempt was stored: only a refusal on one connection is definite.
    const sends = attempts.filter((e) => e.kind === 'send');
    const dropped = (ix.byClient.get(first.client) ?? []).some(
      (e) =>
        e.kind === 'state' &&
        e.state === 'reconnecting' &&
        sends.some((x) => e.at >= x.at) &&
        outcomes.some((o) => e.at <= o.at),
    );
    const refused =
      !dropped && outcomes.length > 0 && outcomes.every((e) => e.kind === 'refused' && !MAYBE_STORED.has(e.code));
    if (refused && stored.length > 0) {
      const codes = outcomes.map((e) => (e.kind === 'refused' ? e.code : '')).join(', ');
      out.push({ rule: 'refused-stored', ...where, id: stored[0]!.id, detail: `every attempt refused (${codes})` });
    }
  }
  return out;
}

/** Acked deletes leave the message deleted; otherwise its content is that of the last acked edit or a later unanswered one. */
export function checkChangesConverge(ix: HistoryIndex): Violation[] {
  const out: Violation[] = [];
  const changes = new Map<string, Array<{ at: number; content: string | null; outcome: string; client: string }>>();
  for (const e of ix.history.events) {
    if (e.kind !== 'edit' && e.kind !== 'delete') continue;
    const list = changes.get(e.id) ?? [];
    list.push({ at: e.at, content: e.content, outcome: e.outcome, client: e.client });
    changes.set(e.id, list);
  }
  for (const [id, list] of changes) {
    const doc = ix.storedById.get(id);
    const client = list[0]!.client;
    if (!doc) {
      if (list.some((c) => c.outcome === 'ok'))
        out.push({ rule: 'changed-not-stored', id, client, detail: 'acked change' });
      continue;
    }
    list.sort((a, b) => a.at - b.at);
    if (list.some((c) => c.content === null && c.outcome === 'ok')) {
      if (!doc.deleted) out.push({ rule: 'delete-lost', id, client, detail: 'acked delete, stored not deleted' });
      continue;
    }
    if (doc.deleted) {
      if (!list.some((c) => c.content === null))
        out.push({ rule: 'deleted-unasked', id, client, detail: 'no delete sent' });
      continue;
    }
    const lastOk = list.findLastIndex((c) => c.outcome === 'ok');
    const allowed = new Set<string>();
    if (lastOk >= 0) allowed.add(list[lastOk]!.content!);
    else allowed.add(originalContent(ix, id) ?? doc.content);
    for (const c of list.slice(lastOk + 1)) if (c.outcome !== 'ok' && c.content !== null) allowed.add(c.content);
    if (!allowed.has(doc.content)) {
      out.push({
        rule: 'edit-lost',
        id,
        client,
        detail: `stored "${doc.content}", expected one of ${[...allowed].join(' | ')}`,
      });
    }
  }
  return out;
}

function originalContent(ix: HistoryIndex, id: string): string | null {
  const doc = ix.storedById.get(id);
  if (!doc?.nonce) return null;
  const send = (ix.attemptsByNonce.get(nonceKey(doc.channel, doc.author, doc.nonce)) ?? []).find(
    (e) => e.kind === 'send',
  );
  return send?.kind === 'send' ? send.content : null;
}
