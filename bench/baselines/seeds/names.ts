// Every broker object and Redis key the seed designs create, by design, from the run's prefix: the
// routings name what they declare with these, and stop() deletes exactly these (no broker listing
// needed; the e2e test lists the broker to prove nothing else was left).
import { gatewayQueueName, topologyNames } from '@chat/router';
import type { SeedDesign } from './designs.js';

/** Partitions of the Green Go variants (the router's default, stated so that cleanup knows them). */
export const GREEN_GO_PARTITIONS = 16;

export const userQueue = (prefix: string, userId: string) => `${prefix}.user.${userId}`;
export const serverQueue = (prefix: string, serverId: string) => `${prefix}.srv.${serverId}`;
export const fanoutExchange = (prefix: string) => `${prefix}.fanout`;
export const fanoutQueue = (prefix: string, serverId: string) => `${prefix}.fanout.${serverId}`;
export const userServerMapKey = (prefix: string) => `${prefix}:user-server`;

export interface SeedNames {
  queues: string[];
  exchanges: string[];
  redisKeys: string[];
}

/** What a run of `design` with these servers and users may have created. */
export function seedNames(
  design: SeedDesign,
  prefix: string,
  serverIds: readonly string[],
  users: readonly string[],
): SeedNames {
  switch (design) {
    case 'queue-per-user':
      return { queues: users.map((u) => userQueue(prefix, u)), exchanges: [], redisKeys: [] };
    case 'redis-map':
      return {
        queues: serverIds.map((s) => serverQueue(prefix, s)),
        exchanges: [],
        redisKeys: [userServerMapKey(prefix)],
      };
    case 'fanout':
      return {
        queues: serverIds.map((s) => fanoutQueue(prefix, s)),
        exchanges: [fanoutExchange(prefix)],
        redisKeys: [],
      };
    case 'green-go-user':
    case 'green-go-slot': {
      const t = topologyNames(prefix, GREEN_GO_PARTITIONS);
      return {
        queues: [...serverIds.map((s) => gatewayQueueName(prefix, s)), t.persistQueue, t.deadQueue],
        exchanges: [t.frontExchange, ...t.routeExchanges, t.deadExchange],
        redisKeys: [],
      };
    }
  }
}
