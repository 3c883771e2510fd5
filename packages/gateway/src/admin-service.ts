// The operator's view (docs/operations.md "Operator's view"): who may use it and what it answers.
// Guarantees: every call first checks that the caller is an admin — named by username or user id in
// ADMIN_USERS, configuration only — and answers anyone else `forbidden` (403); every call, allowed or
// refused, is logged exactly once (who, what, which dead letter). Gateways come from their own reports in
// Redis (gateway-reports.ts) joined with their queues in RabbitMQ; queues from the management API; dead
// letters from the dead-letter queue over AMQP (@chat/router's DeadLetterQueue: a requeue is republished
// and confirmed before the dead letter is removed).
import {
  type AdminGateway,
  type AdminQueues,
  DEAD_LETTER_ID_PATTERN,
  type DeadLetter,
  type DeadLetters,
  type Logger,
  MAX_DEAD_LETTER_LISTING,
  MAX_LISTED_BOUND_KEYS,
} from '@chat/protocol';
import { type DeadLetterQueue, gatewayQueueName } from '@chat/router';
import type { AdminConfig } from './admin-config.js';
import type { Author } from './chat-service.js';
import { ApiError } from './errors.js';
import type { GatewayReports } from './gateway-reports.js';
import type { RabbitManagement } from './rabbit-management.js';

export interface AdminServiceDeps {
  config: AdminConfig;
  prefix: string;
  reports: Pick<GatewayReports, 'list'>;
  management: RabbitManagement;
  deadLetters: DeadLetterQueue;
  logger: Logger;
}

/** Dead letters listed when no `limit` is given. */
const DEFAULT_LISTING = 20;
const ID = new RegExp(DEAD_LETTER_ID_PATTERN);

export class AdminService {
  readonly #d: AdminServiceDeps;
  readonly #admins: ReadonlySet<string>;

  constructor(deps: AdminServiceDeps) {
    this.#d = deps;
    this.#admins = new Set(deps.config.users);
  }

  /** Every gateway that reported within the presence timeout or has a queue, by server id. */
  gateways(caller: Author): Promise<AdminGateway[]> {
    return this.#act(caller, 'gateways', {}, async () => {
      const [reports, { queues }] = await Promise.all([
        this.#d.reports.list(),
        this.#d.management.queues(`${this.#d.prefix}.gw`),
      ]);
      const queueOf = new Map(queues.map((q) => [q.name, q]));
      const ids = new Set([
        ...reports.map((r) => r.serverId),
        ...queues.map((q) => q.name.slice(`${this.#d.prefix}.gw.`.length)),
      ]);
      return Promise.all(
        [...ids].sort().map(async (serverId) => {
          const report = reports.find((r) => r.serverId === serverId);
          const queue = queueOf.get(gatewayQueueName(this.#d.prefix, serverId));
          const keys = queue ? await this.#d.management.boundKeys(queue.name) : [];
          return {
            server_id: serverId,
            live: report !== undefined,
            connections: report?.connections ?? null,
            users: report?.users ?? null,
            reported_at: report ? new Date(report.at).toISOString() : null,
            queue: queue?.name ?? null,
            consumers: queue?.consumers ?? 0,
            messages: queue?.messages ?? 0,
            bound_keys: keys.slice(0, MAX_LISTED_BOUND_KEYS),
            bound_key_count: keys.length,
          };
        }),
      );
    });
  }

  /** The deployment's queues (`<prefix>.…`). */
  queues(caller: Author): Promise<AdminQueues> {
    return this.#act(caller, 'queues', {}, () => this.#d.management.queues(this.#d.prefix));
  }

  /** The first `limit` (1..100, default 20) dead letters with their reasons; nothing is taken from the queue. */
  deadLetters(caller: Author, limit: number | undefined): Promise<DeadLetters> {
    return this.#act(caller, 'dead_letters.list', { limit }, async () => {
      const n = limit ?? DEFAULT_LISTING;
      if (!Number.isInteger(n) || n < 1 || n > MAX_DEAD_LETTER_LISTING)
        throw new ApiError('invalid_request', `limit must be 1-${MAX_DEAD_LETTER_LISTING}`);
      const { letters, total } = await this.#broker(() => this.#d.deadLetters.list(n));
      return { dead_letters: letters, total };
    });
  }

  /** Requeues dead letter `id` (confirmed republish, then removed); `not_found` if it is not among the first 100. */
  requeue(caller: Author, id: string): Promise<DeadLetter> {
    return this.#act(caller, 'dead_letters.requeue', { dead_letter: id }, () =>
      this.#found(id, () => this.#d.deadLetters.requeue(id)),
    );
  }

  /** Discards dead letter `id` for good; `not_found` if it is not among the first 100. */
  discard(caller: Author, id: string): Promise<DeadLetter> {
    return this.#act(caller, 'dead_letters.discard', { dead_letter: id }, () =>
      this.#found(id, () => this.#d.deadLetters.discard(id)),
    );
  }

  async #found(id: string, op: () => Promise<DeadLetter | undefined>): Promise<DeadLetter> {
    if (!ID.test(id)) throw new ApiError('not_found', 'unknown dead letter');
    const letter = await this.#broker(op);
    if (!letter) throw new ApiError('not_found', 'no such dead letter among the first 100');
    return letter;
  }

  /** A dead-letter queue operation; a broker failure is `unavailable` (nothing was taken). */
  async #broker<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw new ApiError('unavailable', `the dead-letter queue is unavailable: ${(err as Error).message}`);
    }
  }

  /** Checks the caller is an admin, runs `op`, and logs the call once with its outcome. */
  async #act<T>(caller: Author, action: string, detail: object, op: () => Promise<T>): Promise<T> {
    const who = { admin: caller.username, admin_id: caller.id, action, ...detail };
    if (!this.#admins.has(caller.username) && !this.#admins.has(caller.id)) {
      this.#d.logger.warn(who, 'admin action refused: not an admin');
      throw new ApiError('forbidden', 'this needs an admin (ADMIN_USERS)');
    }
    try {
      const result = await op();
      const letter = result as Partial<DeadLetter>;
      this.#d.logger.info(
        letter && typeof letter === 'object' && 'reason' in letter
          ? { ...who, message_id: letter.message_id, reason: letter.reason }
          : who,
        'admin action',
      );
      return result;
    } catch (err) {
      this.#d.logger.warn({ ...who, err: (err as Error).message }, 'admin action failed');
      throw err;
    }
  }
}
