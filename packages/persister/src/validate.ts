// The durable writes the persister accepts (docs/protocol.md §3–4): the whole-write schemas of
// @chat/protocol, then the rules a schema cannot say (content trimmed to 1..max code points, a timestamp
// that parses). A write that fails here can never be stored: it is dead-lettered with the returned reason.
import { checkContent, type DurableWrite, durableWrites, isSnowflake } from '@chat/protocol';

export type ValidWrite =
  | {
      kind: 'create';
      id: string;
      channel_id: string;
      author: { id: string; username: string };
      content: string;
      nonce: string | null;
      timestamp: string;
      /** The message of the same channel this one answers, or null. */
      reply_to: string | null;
    }
  | { kind: 'update'; id: string; message_id: string; channel_id: string; author_id: string; content: string }
  | { kind: 'delete'; id: string; message_id: string; channel_id: string; author_id: string };

const REASONS: Record<string, string> = {
  id: 'invalid_id',
  channel_id: 'invalid_channel_id',
  message_id: 'invalid_message_id',
  author: 'invalid_author',
  author_id: 'invalid_author',
  content: 'invalid_content',
  nonce: 'invalid_nonce',
  timestamp: 'invalid_timestamp',
  type: 'unknown_type',
  reply_to: 'invalid_reply_to',
};

/** The write normalised (content trimmed), or the reason it is invalid. */
export function validateWrite(w: DurableWrite, maxContent: number): ValidWrite | { reason: string } {
  const raw = w as unknown as Record<string, unknown>;
  if (!isSnowflake(raw.id)) return { reason: 'invalid_id' };
  const type = raw.type as DurableWrite['type'];
  const v = Object.hasOwn(durableWrites, type) ? durableWrites[type] : undefined;
  if (!v) return { reason: 'unknown_type' };
  const failure = v.failure(w);
  if (failure) return { reason: REASONS[failure.field] ?? 'invalid_write' };
  let content: string | undefined;
  if (w.type !== 'message.delete') {
    const c = checkContent(w.content, maxContent);
    if ('problem' in c) return { reason: c.problem === 'empty' ? 'empty_content' : 'content_too_long' };
    content = c.content;
  }
  switch (w.type) {
    case 'message.create':
      if (Number.isNaN(Date.parse(w.timestamp))) return { reason: 'invalid_timestamp' };
      return {
        kind: 'create',
        id: w.id,
        channel_id: w.channel_id,
        author: { id: w.author.id, username: w.author.username },
        content: content!,
        nonce: w.nonce ?? null,
        timestamp: new Date(w.timestamp).toISOString(),
        reply_to: w.reply_to ?? null,
      };
    case 'message.update':
      return {
        kind: 'update',
        id: w.id,
        message_id: w.message_id,
        channel_id: w.channel_id,
        author_id: w.author_id,
        content: content!,
      };
    case 'message.delete':
      return { kind: 'delete', id: w.id, message_id: w.message_id, channel_id: w.channel_id, author_id: w.author_id };
  }
}
