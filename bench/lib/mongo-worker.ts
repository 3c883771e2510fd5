// The MongoDB stand-in (testkit, in memory; NOT MongoDB and not its speed) in a process of its own,
// so that its CPU is measured apart from the benchmark's. Replies `start` with its URL, and `gc`
// with the garbage-collection pauses of this process since the previous `gc` request.
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { startMongoStandIn } from '@chat/testkit';
import { serveRequests } from './child.js';

let standIn: Awaited<ReturnType<typeof startMongoStandIn>> | undefined;

/** GC pauses seen since the last `gc` request: count, total and longest, all kinds together. */
let gc = { count: 0, totalMs: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries() as PerformanceEntry[]) {
    gc.count++;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });

serveRequests(
  async (req) => {
    if (req.type === 'gc') {
      const seen = gc;
      gc = { count: 0, totalMs: 0, maxMs: 0 };
      return seen;
    }
    if (req.type !== 'start') throw new Error(`unknown request ${req.type}`);
    standIn ??= await startMongoStandIn({ logger: { warn: () => {} } });
    return { url: standIn.url, pid: process.pid };
  },
  async () => {
    await standIn?.close();
  },
  60 * 60_000,
);
