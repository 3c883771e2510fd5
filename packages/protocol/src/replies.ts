// Replies (docs/protocol.md §4.1): how much of a parent a reply's reference shows, and the replies page size.
import type { ReferencedMessage } from './objects.js';
import { codePoints } from './text.js';

/** Longest excerpt of a parent's content in a reply's `referenced_message`, in code points. */
export const REPLY_EXCERPT_LENGTH = 100;

/** Replies per page of `GET …/messages/{message_id}/replies`: default and bounds (as history). */
export const REPLIES_LIMIT = { default: 50, min: 1, max: 100 } as const;

/**
 * How far (ms) a `reply_to` id's time may be from now for the gateway to accept it before its message is
 * stored: a message is acknowledged when its write is durable, before the persister stores it, so a reply
 * may overtake it. An id not stored and outside this window is refused (`not_found`).
 */
export const REPLY_TO_PENDING_MS = 60_000;

/** The first `max` code points of `content`, counted as `codePoints` counts (a surrogate pair is one). */
export function excerptOf(content: string, max = REPLY_EXCERPT_LENGTH): string {
  if (codePoints(content) <= max) return content;
  return Array.from(content).slice(0, max).join('');
}

/**
 * The one place a reply's `referenced_message` is built: from its parent as stored now, or `deleted` when
 * there is none to show (deleted, unknown, or in another channel: callers look parents up in the reply's
 * channel only).
 */
export function referenceOf(
  parentId: string,
  parent: { author: { id: string; username: string }; content: string } | null | undefined,
): ReferencedMessage {
  if (!parent) return { id: parentId, deleted: true };
  return {
    id: parentId,
    author: { id: parent.author.id, username: parent.author.username },
    content: excerptOf(parent.content),
  };
}
