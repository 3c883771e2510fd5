// Giving up on one write for good: it moves to the dead-letter queue with its reason (confirmed,
// then acked by the router), counted by the reason's first word and logged.

import type { Logger } from '@chat/protocol';
import type { DurableDelivery } from '@chat/router';
import type { PersisterMetrics } from './metrics.js';
import { type Retry, routerTransient } from './retry.js';

/** Dead-letters `delivery` with `reason`; resolves once the broker has it (retried while the broker is away). */
export type DeadLetter = (delivery: DurableDelivery, reason: string) => Promise<void>;

export function createDeadLetter(deps: {
  retry: Retry;
  logger: Pick<Logger, 'warn'>;
  metrics: Pick<PersisterMetrics, 'deadLetters'>;
}): DeadLetter {
  return async (delivery, reason) => {
    deps.metrics.deadLetters.inc({ reason: reason.split(':')[0]! });
    deps.logger.warn({ reason, id: delivery.envelope.id }, 'write dead-lettered');
    await deps.retry('dispatch', () => delivery.deadLetter(reason), routerTransient);
  };
}
