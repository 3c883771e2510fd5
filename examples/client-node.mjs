// A Node script on @chat/client against a running chat deployment (nginx or one gateway): sign up (or
// log in), open the WebSocket session, send a message, see it delivered back, read it in the history.
//
//   npm install @chat/client
//   CHAT_URL=http://127.0.0.1:8080 CHAT_USER=example-bot CHAT_PASSWORD='a long password' node client-node.mjs
//
// Prints one JSON line with what happened. Exits 1 on any failure.
import { ChatApiError, createClient } from '@chat/client';

const baseUrl = process.env.CHAT_URL ?? 'http://127.0.0.1:8080';
const username = process.env.CHAT_USER ?? 'example-bot';
const password = process.env.CHAT_PASSWORD ?? 'correct horse battery staple';

const client = createClient({ baseUrl, reconnect: { maxAttempts: 5 } });
client.on('state', (state, previous, { code, reason }) =>
  console.error(`state ${previous} → ${state}${code ? ` (${code}${reason ? ` ${reason}` : ''})` : ''}`),
);
try {
  try {
    await client.register(username, password);
  } catch (err) {
    if (!(err instanceof ChatApiError && err.code === 'username_taken')) throw err;
  }
  await client.login(username, password);
  const { user, channels } = await client.connect();
  const channel = channels.find((c) => c.name === 'official') ?? channels[0];
  if (!channel) throw new Error(`${username} is in no channel`);

  const text = `hello from ${username} at ${new Date().toISOString()}`;
  const delivered = new Promise((resolve) => {
    const off = client.on('messageCreate', (m) => {
      if (m.author.id === user.id && m.content === text) {
        off();
        resolve(m);
      }
    });
  });
  const sent = await client.send(channel.id, text); // resolves once the write is durable
  const echo = await delivered; // stored by the persister, then dispatched to the channel's members
  const history = await client.history(channel.id, { limit: 10 });
  console.log(
    JSON.stringify({
      user: user.id,
      channel: channel.id,
      sent: sent.id,
      delivered: echo.id,
      inHistory: history.some((m) => m.id === sent.id),
    }),
  );
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await client.close(); // resolves once the socket is closed
}
