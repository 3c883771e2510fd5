// The operator's routes of the HTTP API (docs/protocol.md §6.3), appended to HTTP_ROUTES: they need a
// token of a user the gateway's ADMIN_USERS names (anyone else: 403 forbidden).
import { ADMIN_HTTP_RESULTS, DEAD_LETTER_ID_PATTERN, DeadLettersQuery } from './admin.js';
import type { HttpRoute } from './http-routes.js';

const deadLetterId = { dead_letter_id: { type: 'string', pattern: DEAD_LETTER_ID_PATTERN } } as const;

export const ADMIN_HTTP_ROUTES: readonly HttpRoute[] = [
  {
    name: 'admin_gateways',
    method: 'get',
    path: '/admin/gateways',
    auth: true,
    summary: 'Admin: every gateway with its connection count, its queue and its bound routing keys',
    status: 200,
    result: ADMIN_HTTP_RESULTS.admin_gateways,
    errors: ['unauthorized', 'forbidden'],
  },
  {
    name: 'admin_queues',
    method: 'get',
    path: '/admin/queues',
    auth: true,
    summary: "Admin: the deployment's queues with depth, consumers and publish/deliver rates",
    status: 200,
    result: ADMIN_HTTP_RESULTS.admin_queues,
    errors: ['unauthorized', 'forbidden'],
  },
  {
    name: 'admin_dead_letters',
    method: 'get',
    path: '/admin/dead-letters',
    auth: true,
    summary: 'Admin: the first dead letters (oldest first) with their reasons (query: limit 1..100)',
    query: DeadLettersQuery,
    status: 200,
    result: ADMIN_HTTP_RESULTS.admin_dead_letters,
    errors: ['invalid_request', 'unknown_field', 'unauthorized', 'forbidden'],
  },
  {
    name: 'admin_requeue',
    method: 'post',
    path: '/admin/dead-letters/{dead_letter_id}/requeue',
    auth: true,
    summary:
      'Admin: republish a dead letter to the persist queue (confirmed), then remove it from the dead-letter queue',
    pathParams: deadLetterId,
    status: 200,
    result: ADMIN_HTTP_RESULTS.admin_requeue,
    errors: ['unauthorized', 'forbidden', 'not_found'],
  },
  {
    name: 'admin_discard',
    method: 'delete',
    path: '/admin/dead-letters/{dead_letter_id}',
    auth: true,
    summary: 'Admin: remove a dead letter for good',
    pathParams: deadLetterId,
    status: 200,
    result: ADMIN_HTTP_RESULTS.admin_discard,
    errors: ['unauthorized', 'forbidden', 'not_found'],
  },
];
