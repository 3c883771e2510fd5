// typing.start reaches the channel's other members — on another gateway too — through the router's
// dispatchToMembers target, in slot and in user granularity, and not the typist's non-members.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack } from './stack.js';

for (const granularity of ['slot', 'user'] as const) {
  describe(`typing (${granularity} granularity)`, () => {
    let stack: Stack;
    before(async () => {
      const env = { CHAT_GRANULARITY: granularity };
      stack = await startStack({ gateways: 2, gatewayEnv: env, persisterEnv: env });
    });
    after(async () => stack?.close());

    it('a member typing is dispatched to the other members on both gateways, and to no one else', async () => {
      const [gw1, gw2] = stack.gateways;
      const [typist, near, far, outsider] = [
        await signUp(gw1!.url, `typist-${granularity}`),
        await signUp(gw1!.url, `near-${granularity}`),
        await signUp(gw1!.url, `far-${granularity}`),
        await signUp(gw1!.url, `outsider-${granularity}`),
      ];
      const group = { kind: 'group', name: 'typing', recipients: [near.id, far.id] };
      const channel = (await http(gw1!.url, 'POST', '/api/channels', group, typist.token)).body;
      const open = async (port: number, token: string) => {
        const c = await RawClient.open(`ws://127.0.0.1:${port}/ws`);
        await c.identify(token);
        return c;
      };
      const typistWs = await open(gw1!.port, typist.token);
      const nearWs = await open(gw1!.port, near.token);
      const farWs = await open(gw2!.port, far.token);
      const outsiderWs = await open(gw2!.port, outsider.token);

      const res = await typistWs.request('typing.start', { channel_id: channel.id });
      assert.equal(res.ok, true);
      const isTyping = (f: { t?: string; d?: { channel_id?: string; user_id?: string } }) =>
        f.t === 'TYPING_START' && f.d?.channel_id === channel.id && f.d?.user_id === typist.id;
      await nearWs.next(isTyping);
      await farWs.next(isTyping);

      // The typing event was published before this message was even written; by the time the far
      // member (the outsider's gateway) has the message, a typing event for the outsider would be there.
      await http(gw1!.url, 'POST', `/api/channels/${channel.id}/messages`, { content: 'after typing' }, typist.token);
      await farWs.next((f) => f.t === 'MESSAGE_CREATE' && f.d?.content === 'after typing');
      assert.ok(!outsiderWs.frames.some((f) => f.t === 'TYPING_START'), 'the outsider got no typing event');
      for (const c of [typistWs, nearWs, farWs, outsiderWs]) c.close();
    });
  });
}
