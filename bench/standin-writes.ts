// The MongoDB stand-in's cost for the persister's three write-path commands (issue #8: CPU per
// durable message summed over every process, the stand-in being one of them). @chat/store against
// the stand-in (testkit, in a process of its own, so its CPU is measured apart), driven exactly as
// the persister drives it: `messages.append(batch)` of `--batch` messages, each to a random one of
// `--channels` DM channels by one of its two members (`--members N`: channels of N members, each an
// author, so each count document holds up to N authors' positions). Each append sends the cached-tops `find` on
// channel_counts, the ordered `insert` into messages (its `_id` and 4 indexes, the text index too)
// and the bulk `$max` upsert `update` of channel_counts. Appends run one at a time for `--seconds`
// after a warm-up that gives every channel its count document. Reported: per command, the client's
// round-trip time per message (command monitoring: the driver's `duration`, the stand-in's work plus
// the wire), and the stand-in process's CPU per message over the measured interval.
import { createStore } from '@chat/store';
import { type CommandStartedEvent, type CommandSucceededEvent, MongoClient } from 'mongodb';
import { DM_BATCH_FLAGS, DmBatches } from './lib/dm-batches.js';
import { defineScenario, type ScenarioOutcome } from './lib/scenario.js';
import { type GcPauses, STAND_IN_NOTE, startMongoProcess } from './lib/services.js';
import { seededRandom } from './lib/stats.js';
import { CpuMeter, type CpuReading, machineLine, otherLoadNote, waitForQuiet } from './lib/system.js';
import { fmt, formatTable, pct } from './lib/table.js';

const scenario = defineScenario({
  name: 'standin-writes',
  summary: "the MongoDB stand-in's CPU for messages.append: cached-tops find, ordered insert, $max upserts",
  flags: {
    ...DM_BATCH_FLAGS,
    members: {
      type: 'int',
      default: 2,
      min: 2,
      max: 10_000,
      help: 'members per channel, each an author (2: DMs; more: groups, whose count documents hold more authors)',
    },
    seconds: { type: 'int', default: 10, min: 1, max: 50, help: 'measured seconds of back-to-back appends' },
  },
  quick: { channels: 200, seconds: 2 },
  limitMinutes: 3,
});
const { channels: CHANNELS, batch: BATCH, seconds: SECONDS, members: MEMBERS } = scenario.flags;
const T0 = Date.parse('2026-12-01T00:00:00Z');

/** The commands timed, by `<command> <collection>` as the driver sends them. */
const COMMANDS = ['find channel_counts', 'insert messages', 'update channel_counts'] as const;
type CommandKey = (typeof COMMANDS)[number];

/** Sums the driver's command durations per `<command> <collection>` while `on`. */
class CommandTimes {
  on = false;
  readonly totalMs = new Map<string, number>();
  readonly calls = new Map<string, number>();
  readonly #pending = new Map<number, string>();

  constructor(client: MongoClient) {
    client.on('commandStarted', (e: CommandStartedEvent) => {
      const collection = e.command[e.commandName];
      if (this.on && typeof collection === 'string') this.#pending.set(e.requestId, `${e.commandName} ${collection}`);
    });
    client.on('commandSucceeded', (e: CommandSucceededEvent) => {
      const key = this.#pending.get(e.requestId);
      if (key === undefined) return;
      this.#pending.delete(e.requestId);
      this.totalMs.set(key, (this.totalMs.get(key) ?? 0) + e.duration);
      this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    });
  }
}

interface Measured {
  messages: number;
  appends: number;
  wallS: number;
  appendUsPerMessage: number;
  commands: Array<{ command: CommandKey; calls: number; msPerCall: number; usPerMessage: number }>;
  otherCommands: string[];
  standInUsPerMessage: number;
  benchUsPerMessage: number;
  cpu: CpuReading;
  gc: GcPauses;
  storedMessages: number;
}

async function main(): Promise<ScenarioOutcome> {
  const system = machineLine();
  console.log(system);
  const mongo = await startMongoProcess();
  const client = new MongoClient(mongo.url, { monitorCommands: true });
  let measured: Measured;
  try {
    await client.connect();
    const db = client.db('standin_writes');
    const store = createStore({ db });
    await store.init();
    const times = new CommandTimes(client);
    const batches = new DmBatches({
      channels: CHANNELS,
      size: BATCH,
      t0: T0,
      random: seededRandom(8),
      members: MEMBERS,
    });
    // Warm-up: every channel gets its first messages and its count document (upserts become updates).
    for (let k = 0; k < Math.ceil((3 * CHANNELS) / BATCH); k++) await store.messages.append(batches.next());
    await waitForQuiet({ bench: process.pid, standIn: mongo.pid }, 10_000);
    await mongo.gcPauses();
    times.on = true;
    let messages = 0;
    let appends = 0;
    const meter = new CpuMeter({ bench: process.pid, standIn: mongo.pid });
    const started = performance.now();
    while (performance.now() - started < SECONDS * 1000) {
      const batch = batches.next();
      await store.messages.append(batch);
      messages += batch.length;
      appends++;
    }
    const wallMs = performance.now() - started;
    const cpu = meter.stop();
    times.on = false;
    const gc = await mongo.gcPauses();
    const perMessageUs = (p: number | undefined) => (((p ?? 0) / 100) * cpu.wallMs * 1000) / messages;
    measured = {
      messages,
      appends,
      wallS: wallMs / 1000,
      appendUsPerMessage: (wallMs * 1000) / messages,
      commands: COMMANDS.map((command) => {
        const calls = times.calls.get(command) ?? 0;
        const total = times.totalMs.get(command) ?? 0;
        return { command, calls, msPerCall: calls > 0 ? total / calls : 0, usPerMessage: (total * 1000) / messages };
      }),
      otherCommands: [...times.calls.keys()].filter((k) => !(COMMANDS as readonly string[]).includes(k)),
      standInUsPerMessage: perMessageUs(cpu.percent.standIn),
      benchUsPerMessage: perMessageUs(cpu.percent.bench),
      cpu,
      gc,
      storedMessages: await db.collection('messages').estimatedDocumentCount(),
    };
  } finally {
    await client.close().catch(() => {});
    await mongo.stop();
  }
  return report(system, measured);
}

function report(system: string, m: Measured): ScenarioOutcome {
  const commands = formatTable(
    ['command', 'calls', 'ms per call', 'µs per message'],
    m.commands.map((c) => [c.command, c.calls, c.msPerCall, c.usPerMessage]),
  );
  const totals = formatTable(
    [
      'messages',
      'appends',
      'messages/s',
      'append µs/message',
      'stand-in CPU µs/message',
      'stand-in CPU',
      'bench CPU µs/message',
      'stand-in GC ms',
      'other CPU',
    ],
    [
      [
        m.messages,
        m.appends,
        m.messages / m.wallS,
        m.appendUsPerMessage,
        m.standInUsPerMessage,
        pct(m.cpu.percent.standIn),
        m.benchUsPerMessage,
        m.gc.totalMs,
        pct(m.cpu.others),
      ],
    ],
  );
  console.log(`\n${commands}\n\n${totals}`);
  if (m.otherCommands.length > 0) console.log(`other commands seen: ${m.otherCommands.join(', ')}`);
  return {
    code: 0,
    results: {
      title: "MongoDB stand-in: the persister's write path (messages.append)",
      description:
        '@chat/store `messages.append` of batches over DM (or `--members`-sized) channels against the MongoDB stand-in of @chat/testkit (in a process of its own), back to back: per command the round-trip time per message (driver command monitoring), and the stand-in’s CPU per message.',
      system,
      params: { channels: CHANNELS, batch: BATCH, seconds: SECONDS, members: MEMBERS },
      tables: [
        { heading: 'Commands', markdown: commands },
        { heading: 'Totals', markdown: totals },
      ],
      notes: [
        STAND_IN_NOTE,
        `Each append: ${BATCH} messages, each to a random one of ${fmt(CHANNELS)} ${MEMBERS === 2 ? 'DM channels' : `${MEMBERS}-member channels`} by one of its ${MEMBERS} members; a warm-up of ${fmt(Math.ceil((3 * CHANNELS) / BATCH))} appends first gives every channel its count document. The messages collection grows during the run (${fmt(m.storedMessages)} stored at the end).`,
        'Command times are the driver’s `duration` (request written to reply read): the stand-in’s work, its BSON decoding and encoding, and the loopback wire.',
        otherLoadNote([m.cpu]),
      ],
      data: m,
    },
  };
}

scenario.run(main);
