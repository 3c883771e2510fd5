// The operator's view's test system: a RabbitMQ node of its own with the management plugin (the system
// node may not run it), the whole stack on it with ADMIN_USERS naming `opsadmin`, fast gateway reports,
// and ways to put writes into the dead-letter queue the way a real failure does.
import { makeSnowflake } from '@chat/protocol';
import { type RabbitNode, startRabbitNode } from '@chat/testkit';
import amqp from 'amqplib';
import { http, type Stack, signUp, startStack } from './stack.js';

export const ADMIN = 'opsadmin';

export interface AdminStack {
  stack: Stack;
  rabbit: RabbitNode;
  admin: { id: string; username: string; token: string };
  close(): Promise<void>;
}

export async function startAdminStack(gateways = 2): Promise<AdminStack> {
  // The management API's figures are sampled; every 500 ms instead of 5 s keeps the tests' waits short.
  const rabbit = await startRabbitNode({
    enabledPlugins: ['rabbitmq_management'],
    extraConfig: 'collect_statistics_interval = 500',
  });
  try {
    const broker = { AMQP_URL: rabbit.url };
    const stack = await startStack({
      gateways,
      persisterEnv: broker,
      gatewayEnv: {
        ...broker,
        ADMIN_USERS: ADMIN,
        RABBITMQ_MANAGEMENT_URL: `http://127.0.0.1:${rabbit.managementPorts[0]}`,
        PRESENCE_HEARTBEAT_MS: '200',
        PRESENCE_TIMEOUT_MS: '2000',
      },
    });
    const admin = await signUp(stack.gateways[0]!.url, ADMIN);
    return {
      stack,
      rabbit,
      admin,
      async close() {
        await stack.close();
        await rabbit.stop();
      },
    };
  } catch (err) {
    await rabbit.stop();
    throw err;
  }
}

/**
 * Publishes `body` to the persist queue as a write of `type` with `messageId`, confirmed; `asWriter`
 * false publishes it without `user_id`, which the persister dead-letters as `writer_not_allowed`.
 */
export async function publishWrite(
  url: string,
  prefix: string,
  body: string,
  props: { type?: string; messageId?: string; asWriter: boolean },
): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(`${prefix}.persist`, Buffer.from(body), {
      persistent: true,
      contentType: 'application/json',
      type: props.type,
      messageId: props.messageId,
      headers: { v: 1 },
      ...(props.asWriter ? { userId: 'guest' } : {}),
    });
    await ch.waitForConfirms();
    await ch.close();
  } finally {
    await conn.close();
  }
}

type User = { id: string; username: string; token: string };
let sequence = 0;

/**
 * A DM between two new users (`<label>-alice`, `<label>-bob`) and a well-formed `message.create` of
 * alice's in it, published without `user_id`: the persister refuses to store it and dead-letters it as
 * `writer_not_allowed` (as a write from an account that is not an accepted writer would be).
 */
export async function deadLetteredMessage(
  sys: AdminStack,
  label: string,
  content: string,
): Promise<{ alice: User; bob: User; channelId: string; id: string }> {
  const base = sys.stack.gateways[0]!.url;
  const alice = await signUp(base, `${label}-alice`);
  const bob = await signUp(base, `${label}-bob`);
  const dm = await http(base, 'POST', '/api/channels', { kind: 'dm', recipients: [bob.id] }, alice.token);
  const id = String(makeSnowflake(Date.now(), 1023, sequence++));
  const write = {
    v: 1,
    type: 'message.create',
    id,
    channel_id: dm.body.id,
    author: { id: alice.id, username: alice.username },
    content,
    nonce: null,
    timestamp: new Date().toISOString(),
  };
  await publishWrite(sys.rabbit.url, sys.stack.prefix, JSON.stringify(write), {
    type: 'message.create',
    messageId: id,
    asWriter: false,
  });
  return { alice, bob, channelId: dm.body.id, id };
}

/** A body that is not JSON, published as the accepted writer: dead-lettered as `invalid_json`. Resolves with the body. */
export async function deadLetteredJunk(sys: AdminStack, label: string): Promise<string> {
  const body = `{"${label} junk ${Date.now()} ${sequence++}`;
  await publishWrite(sys.rabbit.url, sys.stack.prefix, body, { asWriter: true });
  return body;
}
