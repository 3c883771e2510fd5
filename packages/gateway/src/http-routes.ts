// The HTTP API's routes (docs/protocol.md §6.2): @chat/protocol's route table (verb, path, status, body
// schema) joined to the command of commands.ts that serves each, and where its params come from (path
// ids, the JSON body, the query). Routes are matched without the version: `/api/v1/x` and its alias
// `/api/x` are the same route. Guarantees of `paramsOf`: the body is checked against the route's body
// schema (unknown fields refused, own properties only; a path id in the body is an unknown field), a
// path segment that is not an id names nothing (404), a query id that is not one is 400 — in that
// order, before the command runs.
import { HTTP_ROUTES, httpBodies, type Validator } from '@chat/protocol';
import type { Method } from './commands.js';
import { ApiError } from './errors.js';
import { checkId, checkShape, isId } from './validation.js';

export interface HttpRoute {
  readonly verb: 'get' | 'post' | 'patch' | 'delete';
  readonly pattern: RegExp;
  /** The route's label in chat_gateway_http_requests_total. */
  readonly name: string;
  readonly method: Method;
  readonly status: 200 | 201 | 204;
  /** The path's captures in order: the param each one is, and what it names (a 404 says "unknown <what>"). */
  readonly ids?: readonly (readonly [param: string, what: string])[];
  /** The params (besides path ids) are a JSON body of this schema. */
  readonly body?: Validator<object>;
  /** The params (besides path ids) are these query parameters: ids, `limit` (0-999) and `q` (text). */
  readonly query?: readonly string[];
}

/** The versioned prefix of the API; the unversioned `/api/` is an alias of it. */
export const API_V1_PREFIX = '/api/v1/';

/** `/api/v1/x` → `/api/x` (routes are matched without the version); anything else unchanged. */
export function unversionedPath(path: string): string {
  return path.startsWith(API_V1_PREFIX) ? `/api/${path.slice(API_V1_PREFIX.length)}` : path;
}

/** What the gateway adds to each route of the protocol's table: the command it runs, and its query params. */
const SERVED_BY: Readonly<Record<string, { method: Method; query?: readonly string[] }>> = {
  register: { method: 'user.register' },
  login: { method: 'session.create' },
  logout: { method: 'session.delete' },
  me: { method: 'user.get' },
  my_channels: { method: 'channel.list' },
  create_channel: { method: 'channel.create' },
  add_member: { method: 'member.add' },
  remove_member: { method: 'member.remove' },
  history: { method: 'history.get', query: ['before', 'after', 'limit'] },
  send: { method: 'message.create' },
  edit: { method: 'message.update' },
  delete: { method: 'message.delete' },
  search: { method: 'message.search', query: ['q', 'channel_id', 'before', 'limit'] },
  replies: { method: 'replies.get', query: ['before', 'limit'] },
  ack: { method: 'read.ack' },
  admin_gateways: { method: 'admin.gateways' },
  admin_queues: { method: 'admin.queues' },
  admin_dead_letters: { method: 'admin.dead_letters', query: ['limit'] },
  admin_requeue: { method: 'admin.requeue' },
  admin_discard: { method: 'admin.discard' },
};

/** What a path id names, for the 404 of an id that names nothing. */
const NAMES: Readonly<Record<string, string>> = { channel_id: 'channel', message_id: 'message', user_id: 'user' };

/** Path params that are not snowflake ids (the route's own schema, e.g. a dead letter's hex id): passed as they are. */
const OWN_PARAMS: ReadonlySet<string> = new Set(HTTP_ROUTES.flatMap((r) => Object.keys(r.pathParams ?? {})));

/** The validator of each body schema the protocol's routes use. */
const BODY_VALIDATORS: ReadonlyMap<object, Validator<object>> = new Map(
  Object.values(httpBodies).map((v) => [v.schema as object, v as Validator<object>]),
);

/**
 * The HTTP API's routes: @chat/protocol's route table (paths, statuses, body schemas: the one the OpenAPI
 * document is generated from) joined to the commands that serve them. Throws at load if the two disagree.
 */
export const ROUTES: readonly HttpRoute[] = HTTP_ROUTES.map((r) => {
  const served = SERVED_BY[r.name];
  if (!served) throw new Error(`no command serves the protocol's HTTP route "${r.name}"`);
  const ids = [...r.path.matchAll(/\{(\w+)\}/g)].map(([, param]) => [param!, NAMES[param!] ?? param!] as const);
  const body = r.body === undefined ? undefined : BODY_VALIDATORS.get(r.body);
  if (r.body !== undefined && !body) throw new Error(`no validator for the body of HTTP route "${r.name}"`);
  return {
    verb: r.method,
    pattern: new RegExp(`^/api${r.path.replace(/\{\w+\}/g, '([^/]+)')}$`),
    name: r.name,
    method: served.method,
    status: r.status,
    ...(ids.length > 0 ? { ids } : {}),
    ...(body ? { body } : {}),
    ...(served.query ? { query: served.query } : {}),
  };
});

/** A request's inputs, as the HTTP layer read them. */
export interface HttpInput {
  query: URLSearchParams;
  body: Buffer | null;
}

/** The command's params from a request to `route` (`segments`: its path captures, percent-decoded). */
export function paramsOf(route: HttpRoute, input: HttpInput, segments: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = route.body ? { ...checkShape(json(input.body), route.body) } : {};
  if (route.query) {
    for (const key of input.query.keys())
      if (!route.query.includes(key)) throw new ApiError('unknown_field', `unknown query parameter "${key}"`);
  }
  route.ids?.forEach(([param, what], i) => {
    params[param] = OWN_PARAMS.has(param) ? segments[i] : checkId(segments[i], what);
  });
  for (const key of route.query ?? []) params[key] = queryParam(input.query, key);
  return params;
}

function json(body: Buffer | null): unknown {
  if (!body || body.length === 0) throw new ApiError('invalid_request', 'a JSON body is required');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError('invalid_json', 'the body is not valid JSON');
  }
}

/** `limit` is a number, `q` text (absent: ''), anything else an id. */
function queryParam(q: URLSearchParams, key: string): unknown {
  if (key === 'limit') return limitOf(q);
  if (key === 'q') return q.get('q') ?? '';
  return idParam(q, key);
}

function idParam(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!isId(v)) throw new ApiError('invalid_request', `${name} must be an id (decimal, below 2^63)`);
  return v;
}

/** `limit` as a number (NaN when it is not 1-3 digits: the command refuses it as out of range). */
function limitOf(q: URLSearchParams): number | undefined {
  const raw = q.get('limit');
  return raw === null ? undefined : /^[0-9]{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
}
