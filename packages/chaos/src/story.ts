// The whole story of one message, for the first violation: every attempt, ack and refusal of its write
// (by nonce), every copy any client received and what its SDK passed on (by id), its edits and deletes,
// the documents stored for it, and the faults in force around it. Times are ms from the run's start.
import type { ClientEvent, History } from './history.js';
import type { HistoryIndex } from './history-index.js';
import { nonceKey } from './history-index.js';
import type { Violation } from './violation.js';

function describe(e: ClientEvent): string {
  const { kind, at: _at, client, ...rest } = e;
  return `${client} ${kind} ${JSON.stringify(rest)}`;
}

export function storyOf(ix: HistoryIndex, v: Violation, runStart: number): string {
  const h: History = ix.history;
  const doc = v.id === undefined ? undefined : ix.storedById.get(v.id);
  const key = v.nonceKey ?? (doc?.nonce ? nonceKey(doc.channel, doc.author, doc.nonce) : null);
  const events = ix.storyEvents(v.id ?? null, key);
  const lines = [
    `violation ${v.rule}: ${v.detail}`,
    `  message ${v.id ?? '?'} nonce-key ${key ?? '?'} client ${v.client ?? '?'}`,
  ];
  if (v.client !== undefined) lines.push(`  client ${v.client} is user ${ix.userOf(v.client)}`);
  const stored = key ? (ix.storedByNonce.get(key) ?? []) : doc ? [doc] : [];
  for (const s of stored) lines.push(`  stored: ${JSON.stringify(s)}`);
  if (stored.length === 0) lines.push('  stored: nothing');
  for (const e of events) lines.push(`  +${e.at - runStart} ms ${describe(e)}`);
  if (v.client !== undefined) {
    const sessions = (ix.byClient.get(v.client) ?? []).filter(
      (e) => e.kind === 'ready' || e.kind === 'resumed' || e.kind === 'state',
    );
    for (const e of sessions) lines.push(`  +${e.at - runStart} ms session: ${describe(e)}`);
  }
  const first = events[0]?.at ?? runStart;
  const last = events.at(-1)?.at ?? h.endedAt;
  for (const f of h.faults) {
    if (f.end >= first - 30_000 && f.start <= last + 30_000) {
      lines.push(`  fault ${f.name} on ${f.target}: +${f.start - runStart} .. +${f.end - runStart} ms`);
    }
  }
  for (const x of h.exits) {
    if (x.at >= first - 30_000 && x.at <= last + 30_000)
      lines.push(`  +${x.at - runStart} ms ${x.service} exited on its own (${x.exit})`);
  }
  return lines.join('\n');
}
