// The MongoDB stand-in (testkit, in memory; NOT MongoDB and not its speed) in a process of its own,
// so that its CPU is measured apart from the benchmark's. Replies `start` with its URL.
import { startMongoStandIn } from '@chat/testkit';
import { serveRequests } from './child.js';

let standIn: Awaited<ReturnType<typeof startMongoStandIn>> | undefined;

serveRequests(
  async (req) => {
    if (req.type !== 'start') throw new Error(`unknown request ${req.type}`);
    standIn ??= await startMongoStandIn({ logger: { warn: () => {} } });
    return { url: standIn.url, pid: process.pid };
  },
  async () => {
    await standIn?.close();
  },
  60 * 60_000,
);
