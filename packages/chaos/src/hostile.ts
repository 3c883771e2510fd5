// Hostile clients for scenario 8 (and the mix), next to the honest population: flooders sending as
// fast as they can into their own group, forged-token IDENTIFYs, probes of honest channels (writes and
// history reads of channels they are not in), and members whose sockets never read. Flooders and
// probers are recorded (not as honest): the checker's write and isolation rules apply to them too.
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import type { ClientEvent } from './history.js';
import { membersOf } from './membership.js';
import { RecordedClient } from './recorder.js';
import type { Rng } from './rng.js';
import { chaosClient } from './workload.js';

export interface Hostiles {
  recorded: RecordedClient[];
  users: Record<string, string>;
  members: Record<string, string[]>;
  /** Counts of what the hostile side did, for the table. */
  counts: { floods: number; forged: number; probes: number; stalled: number };
  run(stop: Promise<void>): Promise<void>;
  close(): Promise<void>;
}

const PASSWORD = 'hostile correct horse';

export async function startHostiles(
  url: string,
  honestChannels: readonly string[],
  rng: Rng,
  sink: (e: ClientEvent) => void,
): Promise<Hostiles> {
  const tag = Date.now().toString(36);
  const recorded: RecordedClient[] = [];
  const users: Record<string, string> = {};
  const tokens: string[] = [];
  for (let i = 0; i < 4; i++) {
    const client = chaosClient(url);
    await client.register(`hx${tag}${i}`, PASSWORD);
    const login = await client.login(`hx${tag}${i}`, PASSWORD);
    users[`h${i}`] = login.user.id;
    tokens.push(login.token);
    recorded.push(new RecordedClient(`h${i}`, client, sink));
  }
  const group = await recorded[0]!.client.createChannel({
    kind: 'group',
    name: 'hostile',
    recipients: Object.values(users).slice(1),
  });
  const members = await membersOf(recorded, users);
  for (const h of recorded) await h.client.connect();
  const counts = { floods: 0, forged: 0, probes: 0, stalled: 0 };
  const wsUrl = `${url.replace(/^http/, 'ws')}/ws`;
  const stalled: WebSocket[] = [];

  async function flood(h: RecordedClient, running: () => boolean) {
    while (running()) {
      await Promise.all(
        Array.from({ length: 20 }, () => h.send(group.id, `flood ${counts.floods++}`, undefined, 5_000)),
      );
    }
  }
  async function probe(h: RecordedClient, running: () => boolean) {
    while (running()) {
      const ch = rng.pick(honestChannels);
      counts.probes++;
      await h.send(ch, 'probe', undefined, 5_000);
      await h.client.history(ch, {}, { timeoutMs: 5_000 }).catch(() => undefined);
      await sleep(200);
    }
  }
  async function forge(running: () => boolean) {
    while (running()) {
      counts.forged++;
      const ws = new WebSocket(wsUrl);
      ws.on('error', () => undefined);
      ws.on('open', () => ws.send(JSON.stringify({ op: 2, d: { token: `${tokens[0]!.slice(0, -4)}AAAA` } })));
      await Promise.race([new Promise((r) => ws.once('close', r)), sleep(5_000)]);
      ws.terminate();
      await sleep(100);
    }
  }
  /** A member of the flooded group that identifies and then never reads its socket again. */
  function stall(token: string) {
    const ws = new WebSocket(wsUrl);
    ws.on('error', () => undefined);
    ws.on('open', () => {
      ws.send(JSON.stringify({ op: 2, d: { token } }));
      setTimeout(() => (ws as unknown as { _socket: { pause(): void } })._socket.pause(), 500);
    });
    stalled.push(ws);
    counts.stalled++;
  }

  return {
    recorded,
    users,
    members,
    counts,
    async run(stop) {
      let on = true;
      void stop.then(() => {
        on = false;
      });
      const running = () => on;
      for (const t of tokens.slice(2)) stall(t);
      await Promise.all([
        flood(recorded[0]!, running),
        flood(recorded[1]!, running),
        probe(recorded[2]!, running),
        forge(running),
      ]);
    },
    async close() {
      for (const ws of stalled) ws.terminate();
      await Promise.all(recorded.map((h) => h.client.close()));
    },
  };
}
