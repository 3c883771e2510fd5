// Cleanup of what a router declared under a bench prefix: its topology and gateway queues.
import { gatewayQueueName, topologyNames } from '@chat/router';
import { deleteByPrefix } from '@chat/testkit';

/** Deletes the route exchanges, persist/dead queues, the dlx and the listed gateways' queues. */
export async function deleteRouterObjects(
  url: string,
  prefix: string,
  serverIds: readonly string[] = [],
  partitions = 16,
  extraQueues: readonly string[] = [],
): Promise<void> {
  const names = topologyNames(prefix, partitions);
  await deleteByPrefix(url, prefix, {
    queues: [
      names.persistQueue,
      names.deadQueue,
      ...serverIds.map((id) => gatewayQueueName(prefix, id)),
      ...extraQueues,
    ],
    exchanges: [names.frontExchange, ...names.routeExchanges, names.deadExchange],
  });
}
