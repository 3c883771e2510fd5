// Who is in which channel, as the server reports it (GET /users/@me/channels per client): the checker's
// membership, the default group included. Membership does not change during a run.
import type { RecordedClient } from './recorder.js';

export async function membersOf(
  clients: readonly RecordedClient[],
  users: Record<string, string>,
): Promise<Record<string, string[]>> {
  const members: Record<string, string[]> = {};
  for (const c of clients) {
    for (const ch of await c.client.channels()) {
      const list = members[ch.id] ?? [];
      list.push(users[c.name]!);
      members[ch.id] = list;
    }
  }
  return members;
}
