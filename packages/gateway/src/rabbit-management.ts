// A small client of the RabbitMQ management HTTP API (the broker's own figures: queue depths, consumers,
// rates, bindings), for the operator's view. Read-only; every call has a timeout, and a broker API that
// cannot be reached or answers an error is `unavailable` (503) naming why.
import { type AdminQueue, MAX_LISTED_QUEUES } from '@chat/protocol';
import { ApiError } from './errors.js';

export interface ManagementOptions {
  url: string;
  user: string;
  password: string;
  vhost: string;
  timeoutMs?: number;
}

/** A queue as the management API describes it (the fields read here). */
interface QueueJson {
  name: string;
  type?: string;
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: { publish_details?: { rate?: number }; deliver_get_details?: { rate?: number } };
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const count = (n: number | undefined) => (typeof n === 'number' && n > 0 ? Math.floor(n) : 0);
const rate = (n: number | undefined) => (typeof n === 'number' && n > 0 ? n : 0);

export class RabbitManagement {
  readonly #o: Required<ManagementOptions>;

  constructor(options: ManagementOptions) {
    this.#o = { timeoutMs: 10_000, ...options };
  }

  /** The queues whose name starts with `<prefix>.`, by name, at most MAX_LISTED_QUEUES (`truncated` says more exist). */
  async queues(prefix: string): Promise<{ queues: AdminQueue[]; truncated: boolean }> {
    const q = new URLSearchParams({
      page: '1',
      page_size: String(MAX_LISTED_QUEUES),
      name: `^${escapeRegex(prefix)}\\.`,
      use_regex: 'true',
      sort: 'name',
    });
    const page = (await this.#get(`/api/queues/${encodeURIComponent(this.#o.vhost)}?${q}`)) as {
      items: QueueJson[];
      filtered_count: number;
    };
    return {
      queues: page.items.map((j) => ({
        name: j.name,
        type: j.type ?? 'classic',
        messages: count(j.messages),
        messages_ready: count(j.messages_ready),
        messages_unacknowledged: count(j.messages_unacknowledged),
        consumers: count(j.consumers),
        publish_rate: rate(j.message_stats?.publish_details?.rate),
        deliver_rate: rate(j.message_stats?.deliver_get_details?.rate),
      })),
      truncated: page.filtered_count > page.items.length,
    };
  }

  /** The routing keys bound to `queue` from any exchange but the default one, sorted, without repeats. */
  async boundKeys(queue: string): Promise<string[]> {
    const v = encodeURIComponent(this.#o.vhost);
    // A queue deleted since it was listed (a gateway that drained) has no bindings: [] rather than an error.
    const rows = ((await this.#get(`/api/queues/${v}/${encodeURIComponent(queue)}/bindings`, true)) ?? []) as Array<{
      source: string;
      routing_key: string;
    }>;
    return [...new Set(rows.filter((b) => b.source !== '').map((b) => b.routing_key))].sort();
  }

  /** GETs `path` as JSON; null for a 404 when `missingOk`. */
  async #get(path: string, missingOk = false): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.#o.url}${path}`, {
        headers: { authorization: `Basic ${Buffer.from(`${this.#o.user}:${this.#o.password}`).toString('base64')}` },
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
    } catch (err) {
      throw new ApiError('unavailable', `the RabbitMQ management API is unreachable: ${(err as Error).message}`);
    }
    if (res.status === 404 && missingOk) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ApiError('unavailable', `the RabbitMQ management API answered ${res.status} to ${path.split('?')[0]}`);
    }
    return res.json();
  }
}
