// Schema of the durable writes the persister accepts (docs/protocol.md §3–4). A write that fails here
// can never be stored: it is dead-lettered with the returned reason.
import { type DurableWrite, isSnowflake } from '@chat/router';

export type ValidWrite =
  | {
      kind: 'create';
      id: string;
      channel_id: string;
      author: { id: string; username: string };
      content: string;
      nonce: string | null;
      timestamp: string;
    }
  | { kind: 'update'; id: string; message_id: string; channel_id: string; author_id: string; content: string }
  | { kind: 'delete'; id: string; message_id: string; channel_id: string; author_id: string };

function shortString(v: unknown, max = 64): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** The write normalised (content trimmed), or the reason it is invalid. */
export function validateWrite(w: DurableWrite, maxContent: number): ValidWrite | { reason: string } {
  const raw = w as unknown as Record<string, unknown>;
  if (!isSnowflake(raw.id)) return { reason: 'invalid_id' };
  if (!shortString(raw.channel_id)) return { reason: 'invalid_channel_id' };
  const content = (): string | { reason: string } => {
    if (typeof raw.content !== 'string') return { reason: 'invalid_content' };
    const trimmed = raw.content.trim();
    const n = codePoints(trimmed);
    if (n === 0) return { reason: 'empty_content' };
    if (n > maxContent) return { reason: 'content_too_long' };
    return trimmed;
  };
  switch (raw.type) {
    case 'message.create': {
      const author = raw.author as Record<string, unknown> | null | undefined;
      if (typeof author !== 'object' || author === null || !shortString(author.id) || !shortString(author.username)) {
        return { reason: 'invalid_author' };
      }
      const c = content();
      if (typeof c !== 'string') return c;
      if (raw.nonce !== undefined && raw.nonce !== null && !shortString(raw.nonce)) return { reason: 'invalid_nonce' };
      if (typeof raw.timestamp !== 'string' || Number.isNaN(Date.parse(raw.timestamp)))
        return { reason: 'invalid_timestamp' };
      return {
        kind: 'create',
        id: raw.id,
        channel_id: raw.channel_id,
        author: { id: author.id, username: author.username },
        content: c,
        nonce: (raw.nonce as string | undefined) ?? null,
        timestamp: new Date(raw.timestamp).toISOString(),
      };
    }
    case 'message.update': {
      if (!isSnowflake(raw.message_id)) return { reason: 'invalid_message_id' };
      if (!shortString(raw.author_id)) return { reason: 'invalid_author' };
      const c = content();
      if (typeof c !== 'string') return c;
      return {
        kind: 'update',
        id: raw.id,
        message_id: raw.message_id,
        channel_id: raw.channel_id,
        author_id: raw.author_id,
        content: c,
      };
    }
    case 'message.delete': {
      if (!isSnowflake(raw.message_id)) return { reason: 'invalid_message_id' };
      if (!shortString(raw.author_id)) return { reason: 'invalid_author' };
      return {
        kind: 'delete',
        id: raw.id,
        message_id: raw.message_id,
        channel_id: raw.channel_id,
        author_id: raw.author_id,
      };
    }
    default:
      return { reason: 'unknown_type' };
  }
}
