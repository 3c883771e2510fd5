// @chat/client's replies against a real gateway and persister: send({ replyTo }) over HTTP (no session) and
// over the session, the reference in the answers and in history, and replies() paging newest first.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Stack, startStack, waitFor } from '../../../gateway/test/e2e/stack.js';
import { type ChatClient, ChatRequestError, createClient } from '../../src/index.js';

const PASSWORD = 'correct horse battery';

describe('@chat/client replies', () => {
  let stack: Stack;
  const clients: ChatClient[] = [];
  before(async () => {
    stack = await startStack({ gateways: 1 });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await stack?.close();
  });

  async function account(name: string): Promise<ChatClient> {
    const c = createClient({ baseUrl: stack.gateways[0]!.url, requestTimeoutMs: 20_000 });
    clients.push(c);
    await c.register(name, PASSWORD);
    await c.login(name, PASSWORD);
    return c;
  }

  it('send with replyTo over HTTP and over the session carries the reference; replies() pages them newest first', async () => {
    const c = await account('sdk-replier');
    const [official] = await c.channels();
    const channel = official!.id;
    const parent = await c.send(channel, 'a question');
    await waitFor(async () => (await c.history(channel, { limit: 5 })).some((m) => m.id === parent.id), 'stored');
    const overHttp = await c.send(channel, 'answer over http', { replyTo: parent.id });
    assert.deepEqual(overHttp.referenced_message, {
      id: parent.id,
      author: { id: c.user!.id, username: 'sdk-replier' },
      content: 'a question',
    });
    await c.connect();
    const overSocket = await c.send(channel, 'answer over the session', { replyTo: parent.id });
    assert.equal(overSocket.referenced_message?.id, parent.id);
    await waitFor(async () => (await c.replies(channel, parent.id)).length === 2, 'both replies stored');
    const page = await c.replies(channel, parent.id, { limit: 1 });
    assert.deepEqual(
      page.map((m) => m.id),
      [overSocket.id],
    );
    const older = await c.replies(channel, parent.id, { before: overSocket.id });
    assert.deepEqual(
      older.map((m) => m.id),
      [overHttp.id],
    );
    await waitFor(
      async () => (await c.history(channel, { limit: 10 })).find((m) => m.id === parent.id)?.reply_count === 2,
      'reply_count 2 in history',
    );
    await assert.rejects(
      c.send(channel, 'to nothing', { replyTo: '123456789012345678' }),
      (err: unknown) => err instanceof ChatRequestError && err.code === 'not_found',
    );
  });
});
