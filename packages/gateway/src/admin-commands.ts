// The operator's commands (HTTP only: no WebSocket REQUEST serves them), appended to the command table of
// commands.ts. Each needs a token; the AdminService checks the caller is an admin, logs the call once and
// answers `forbidden` to anyone else. Guarantee of requeue: the dead letter is republished to the persist
// queue and confirmed by the broker before it leaves the dead-letter queue.
import type { Command } from './commands.js';

// biome-ignore lint/suspicious/noExplicitAny: params are typed by the route (path ids, query)
type Params = any;

const admin = (run: Command['run']): Command => ({ params: undefined, auth: true, durable: false, run });

export const ADMIN_COMMANDS = {
  'admin.gateways': admin((s, caller) => s.admin.gateways(caller)),
  'admin.queues': admin((s, caller) => s.admin.queues(caller)),
  'admin.dead_letters': admin((s, caller, p: Params) => s.admin.deadLetters(caller, p.limit)),
  'admin.requeue': admin((s, caller, p: Params) => s.admin.requeue(caller, p.dead_letter_id)),
  'admin.discard': admin((s, caller, p: Params) => s.admin.discard(caller, p.dead_letter_id)),
};
