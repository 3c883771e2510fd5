// The event a stored write delivers to the channel's members (docs/protocol.md: MESSAGE_CREATE,
// MESSAGE_UPDATE, MESSAGE_DELETE dispatch envelopes).
import { messageOf, referenceOf } from '@chat/protocol';
import type { DispatchEnvelope } from '@chat/router';
import type { Message } from '@chat/store';
import type { ValidWrite } from './validate.js';

/** Reads a message's stored state (null: deleted or never stored). */
export type CurrentMessage = (channelId: string, messageId: string) => Promise<Message | null>;

/** The delivery envelope for a stored write, or null when there is nothing to deliver. */
export async function envelopeFor(w: ValidWrite, current: CurrentMessage): Promise<DispatchEnvelope | null> {
  if (w.kind === 'create') {
    // A reply carries its parent as stored now, read in the reply's channel only (never another's).
    const referenced_message = w.reply_to ? referenceOf(w.reply_to, await current(w.channel_id, w.reply_to)) : null;
    const data: Message = messageOf({ ...w, referenced_message });
    return { v: 1, type: 'dispatch', event: 'MESSAGE_CREATE', channel_id: w.channel_id, data };
  }
  if (w.kind === 'update') {
    // Deliver the stored state: an edit that lost to a newer one or to a delete delivers nothing
    // stale, and a redelivered edit delivers the same state again (clients replace by id).
    const stored = await current(w.channel_id, w.message_id);
    return stored ? { v: 1, type: 'dispatch', event: 'MESSAGE_UPDATE', channel_id: w.channel_id, data: stored } : null;
  }
  return {
    v: 1,
    type: 'dispatch',
    event: 'MESSAGE_DELETE',
    channel_id: w.channel_id,
    data: { id: w.message_id, channel_id: w.channel_id },
  };
}
