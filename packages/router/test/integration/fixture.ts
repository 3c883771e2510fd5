// Shared set-up for the router's integration tests: routers on a unique name prefix against a
// real broker, closed and cleaned up after each test.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createRouter,
  type DurableWrite,
  gatewayQueueName,
  partitionOf,
  type Router,
  type RouterOptions,
  slotOf,
  topologyNames,
} from '@chat/router';
import { amqpUrl, deleteByPrefix, uniquePrefix } from '@chat/testkit';

export interface RouterFixture {
  prefix: string;
  url: string | string[];
  make(options?: RouterOptions): Router;
  /** Closes every router and deletes the topology, through `cleanupUrl` when the first URL's node is down. */
  cleanup(cleanupUrl?: string): Promise<void>;
}

export function routerFixture(defaults: RouterOptions & { label?: string } = {}): RouterFixture {
  const { label, ...routerDefaults } = defaults;
  const prefix = uniquePrefix(label ?? 'router');
  const url = (routerDefaults.url as string | string[] | undefined) ?? amqpUrl();
  const routers: Router[] = [];
  const serverIds = new Set<string>();
  return {
    prefix,
    url,
    make(options = {}) {
      const router = createRouter({ url, prefix, reconnectMaxDelayMs: 1000, ...routerDefaults, ...options });
      routers.push(router);
      if (router.options.serverId) serverIds.add(router.options.serverId);
      return router;
    },
    async cleanup(cleanupUrl?: string) {
      await Promise.all(routers.map((r) => r.close()));
      const first = routers[0];
      if (!first) return;
      const names = topologyNames(prefix, first.options.partitions);
      await deleteByPrefix(cleanupUrl ?? (Array.isArray(url) ? url[0]! : url), prefix, {
        queues: [
          ...new Set([
            names.persistQueue,
            names.deadQueue,
            ...[...serverIds].map((id) => gatewayQueueName(prefix, id)),
            // A gateway that lost its queue's node moved to a later incarnation.
            ...routers.flatMap((r) => (r.gatewayQueue === undefined ? [] : [r.gatewayQueue])),
          ]),
        ],
        exchanges: [names.frontExchange, ...names.routeExchanges, names.deadExchange],
      });
    },
  };
}

/** Polls until `predicate` is true, or throws after `timeoutMs` with `what` in the message. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Users whose slots (S, P given) fall into distinct partitions, `count` of them. */
export function usersInDistinctPartitions(count: number, slots = 1024, partitions = 16, seed = 'user'): string[] {
  const seen = new Set<number>();
  const users: string[] = [];
  for (let i = 0; users.length < count; i++) {
    const u = `${seed}${i}`;
    const p = partitionOf(slotOf(u, slots), partitions);
    if (!seen.has(p)) {
      seen.add(p);
      users.push(u);
    }
  }
  return users;
}

export function createWrite(n: number): DurableWrite {
  return {
    v: 1,
    type: 'message.create',
    id: String(300000000000000000n + BigInt(n)),
    channel_id: 'c-recovery',
    author: { id: 'u1', username: 'one' },
    content: `message ${n}`,
    timestamp: new Date().toISOString(),
  };
}

/** Writes `total` messages, `concurrency` at a time; records which ones the broker confirmed. */
export async function writeStream(router: Router, total: number, concurrency: number, confirmed: Set<string>) {
  let next = 0;
  const failures: string[] = [];
  async function worker() {
    while (next < total) {
      const w = createWrite(next++);
      try {
        await router.durableWrite(w);
        confirmed.add(w.id);
      } catch (err) {
        const e = err as { code?: string; retryable?: boolean };
        assert.ok(e.retryable, `only retryable errors during an outage, got ${e.code}`);
        failures.push(e.code ?? 'unknown');
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failures;
}

/** Drains the persist queue and counts each id. */
export async function readAll(router: Router, expectedAtLeast: number, quietMs = 1000): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let last = Date.now();
  await router.consumeDurable((d) => {
    counts.set(d.envelope.id, (counts.get(d.envelope.id) ?? 0) + 1);
    last = Date.now();
    d.ack();
  });
  await waitFor(() => counts.size >= expectedAtLeast && Date.now() - last > quietMs, 'the queue to drain', 60_000);
  return counts;
}
