// Which deliveries are the same change: a RESUME replay (session.ts) and the live dispatch of the same
// stored change (hub.ts) share a key, so a socket that got one is not sent the other.

/** The key under which a delivery is recognised again (RESUME replay vs live event). */
export function dedupeKey(event: string, data: unknown): string | undefined {
  const d = data as { id?: unknown; edited_timestamp?: unknown } | null;
  if (!d || typeof d.id !== 'string') return undefined;
  if (event === 'MESSAGE_CREATE') return `c:${d.id}`;
  if (event === 'MESSAGE_UPDATE') return `u:${d.id}:${String(d.edited_timestamp)}`;
  if (event === 'MESSAGE_DELETE') return `d:${d.id}`;
  return undefined;
}
