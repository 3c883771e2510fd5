// The HTTP API's routes (docs/protocol.md §6.2): verb and path → a command of commands.ts, where its
// params come from (path ids, a JSON body, the query) and the status of a success. Routes are matched
// without the version: `/api/v1/x` and its alias `/api/x` are the same route. Guarantees of `paramsOf`:
// the body is checked against the route's @chat/protocol body schema (unknown fields refused, own
// properties only; a path id in the body is an unknown field), a path segment that is not an id names nothing (404), a query id that is not one
// is 400 — in that order, before the command runs.
import { httpBodies, type Validator } from '@chat/protocol';
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
  /** The params (besides path ids) are these query parameters: ids, and `limit` (0-999). */
  readonly query?: readonly string[];
}

/** The versioned prefix of the API; the unversioned `/api/` is an alias of it. */
export const API_V1_PREFIX = '/api/v1/';

/** `/api/v1/x` → `/api/x` (routes are matched without the version); anything else unchanged. */
export function unversionedPath(path: string): string {
  return path.startsWith(API_V1_PREFIX) ? `/api/${path.slice(API_V1_PREFIX.length)}` : path;
}

const CHANNEL = ['channel_id', 'channel'] as const;
const MESSAGE = ['message_id', 'message'] as const;

export const ROUTES: readonly HttpRoute[] = [
  {
    verb: 'post',
    pattern: /^\/api\/users$/,
    name: 'register',
    method: 'user.register',
    status: 201,
    body: httpBodies.credentials,
  },
  {
    verb: 'post',
    pattern: /^\/api\/sessions$/,
    name: 'login',
    method: 'session.create',
    status: 200,
    body: httpBodies.credentials,
  },
  { verb: 'delete', pattern: /^\/api\/sessions$/, name: 'logout', method: 'session.delete', status: 204 },
  { verb: 'get', pattern: /^\/api\/users\/@me$/, name: 'me', method: 'user.get', status: 200 },
  { verb: 'get', pattern: /^\/api\/users\/@me\/channels$/, name: 'my_channels', method: 'channel.list', status: 200 },
  {
    verb: 'post',
    pattern: /^\/api\/channels$/,
    name: 'create_channel',
    method: 'channel.create',
    status: 201,
    body: httpBodies.createChannel,
  },
  {
    verb: 'post',
    pattern: /^\/api\/channels\/([^/]+)\/members$/,
    name: 'add_member',
    method: 'member.add',
    status: 204,
    ids: [CHANNEL],
    body: httpBodies.addMember,
  },
  {
    verb: 'delete',
    pattern: /^\/api\/channels\/([^/]+)\/members\/([^/]+)$/,
    name: 'remove_member',
    method: 'member.remove',
    status: 204,
    ids: [CHANNEL, ['user_id', 'user']],
  },
  {
    verb: 'get',
    pattern: /^\/api\/channels\/([^/]+)\/messages$/,
    name: 'history',
    method: 'history.get',
    status: 200,
    ids: [CHANNEL],
    query: ['before', 'after', 'limit'],
  },
  {
    verb: 'post',
    pattern: /^\/api\/channels\/([^/]+)\/messages$/,
    name: 'send',
    method: 'message.create',
    status: 201,
    ids: [CHANNEL],
    body: httpBodies.sendMessage,
  },
  {
    verb: 'patch',
    pattern: /^\/api\/channels\/([^/]+)\/messages\/([^/]+)$/,
    name: 'edit',
    method: 'message.update',
    status: 200,
    ids: [CHANNEL, MESSAGE],
    body: httpBodies.editMessage,
  },
  {
    verb: 'delete',
    pattern: /^\/api\/channels\/([^/]+)\/messages\/([^/]+)$/,
    name: 'delete',
    method: 'message.delete',
    status: 204,
    ids: [CHANNEL, MESSAGE],
  },
];

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
    params[param] = checkId(segments[i], what);
  });
  for (const key of route.query ?? []) params[key] = key === 'limit' ? limitOf(input.query) : idParam(input.query, key);
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
