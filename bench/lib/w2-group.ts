// The W2 group, made through the gateway's HTTP API as a user would: the owner creates a group with
// the first recipients (the API takes at most 100 at creation), then adds every other member one
// POST /api/channels/:id/members at a time (a member may add members), spread over the gateways.
import { type BenchUser, pool } from './users.js';

/** At most this many recipients in POST /api/channels (ChatService.createChannel). */
const CREATE_RECIPIENTS_MAX = 100;

async function post(url: string, token: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, text: await res.text() };
}

/** Creates group `name` owned by `members[0]` with every user of `members`; resolves with its id. */
export async function createGroup(
  gatewayUrls: readonly string[],
  name: string,
  members: readonly BenchUser[],
): Promise<string> {
  const [owner, ...rest] = members;
  if (!owner) throw new RangeError('a group needs at least one member');
  const first = rest.slice(0, CREATE_RECIPIENTS_MAX);
  const created = await post(`${gatewayUrls[0]}/api/channels`, owner.token, {
    kind: 'group',
    name,
    recipients: first.map((u) => u.id),
  });
  if (created.status !== 201) throw new Error(`create group: ${created.status} ${created.text}`);
  const id = String((JSON.parse(created.text) as { id: string }).id);
  const later = rest.slice(CREATE_RECIPIENTS_MAX);
  await pool(later, 16, async (u) => {
    const res = await post(`${gatewayUrls[u.n % gatewayUrls.length]}/api/channels/${id}/members`, owner.token, {
      user_id: u.id,
    });
    if (res.status !== 204) throw new Error(`add ${u.username} to the group: ${res.status} ${res.text}`);
  });
  return id;
}
