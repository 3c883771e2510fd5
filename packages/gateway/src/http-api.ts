// The HTTP API of docs/protocol.md §6 on uWebSockets.js: routing, body reading, auth, errors, CORS.
// Documented under `/api/v1/…`; `/api/…` is the same API (an alias kept for older clients).
// HTTP semantics kept: a 405 names the route's methods in `Allow`, a 401 carries
// `WWW-Authenticate: Bearer`, OPTIONS answers with `Allow` (and a CORS preflight for configured origins).
// uWS rules followed here: everything read from `req` is copied before the first await, onAborted
// is registered before any async work, and writes are corked.
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { httpBodies, type Logger } from '@chat/protocol';
import type { Store } from '@chat/store';
import type { Registry } from 'prom-client';
import type { WriteAdmission } from './admission.js';
import type { TokenClaims, TokenService } from './auth.js';
import type { ChatService } from './chat-service.js';
import type { ClientAddresses } from './client-address.js';
import { CorsPolicy } from './cors.js';
import { ApiError } from './errors.js';
import type { SharedRateLimiter } from './guards.js';
import type { GatewayMetrics } from './metrics.js';
import { checkId, checkShape, decodePathSegment, isId } from './validation.js';

export interface HttpDeps {
  chat: ChatService;
  /** Bounds durable writes in flight (POST/PATCH/DELETE of messages). */
  admission: WriteAdmission;
  store: Store;
  tokens: TokenService;
  userRate: SharedRateLimiter;
  ipRate: SharedRateLimiter;
  registry: Registry;
  metrics: GatewayMetrics;
  logger: Logger;
  bodyMaxBytes: number;
  /** Origins allowed to call the API from a browser (CORS); empty: no CORS headers at all. */
  corsOrigins: readonly string[];
  ready: () => Promise<{ ok: boolean; checks: Record<string, boolean> }>;
  /** False while draining: new work is refused with 503. */
  accepting: () => boolean;
  /** Who the client is: the TCP peer, or what a trusted proxy says. */
  addresses: ClientAddresses;
  /** Abuse budgets that hit the abuser only (per address, per address and username) and a global sign-up budget. */
  budgets: AuthBudgets;
}

export interface AuthBudgets {
  /** Logins per (address, username). */
  login: SharedRateLimiter;
  /** Logins per address. */
  loginAddress: SharedRateLimiter;
  /** Failed authentications (invalid or expired tokens, HTTP and IDENTIFY) per address. */
  authFailures: SharedRateLimiter;
  /** Sign-ups, all addresses together. */
  signup: SharedRateLimiter;
}

interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  auth: string;
  /** The Origin header ('' when absent). */
  origin: string;
  ip: string;
  body: Buffer | null;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

type Handler = (call: Call, params: string[], user: TokenClaims | null) => Promise<Reply>;
interface Route {
  method: string;
  pattern: RegExp;
  name: string;
  auth: boolean;
  handler: Handler;
}

/** The versioned prefix of the API; the unversioned `/api/` is an alias of it. */
export const API_V1_PREFIX = '/api/v1/';

/** `/api/v1/x` → `/api/x` (routes are matched without the version); anything else unchanged. */
export function unversionedPath(path: string): string {
  return path.startsWith(API_V1_PREFIX) ? `/api/${path.slice(API_V1_PREFIX.length)}` : path;
}

/** The `WWW-Authenticate` challenge of a 401 (RFC 6750): `invalid_token` when a token was sent. */
export function bearerChallenge(authorization: string): string {
  return authorization.trim() === '' ? 'Bearer realm="chat"' : 'Bearer realm="chat", error="invalid_token"';
}

/** Endpoints outside the API, GET only. */
const PLAIN_GET = new Set(['/healthz', '/readyz', '/metrics']);

function json(call: Call): unknown {
  if (!call.body || call.body.length === 0) throw new ApiError('invalid_request', 'a JSON body is required');
  try {
    return JSON.parse(call.body.toString('utf8'));
  } catch {
    throw new ApiError('invalid_json', 'the body is not valid JSON');
  }
}

function snowflakeParam(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!isId(v)) throw new ApiError('invalid_request', `${name} must be an id (decimal, below 2^63)`);
  return v;
}

/** Takes one from a budget; `rate_limited` (429 with Retry-After) when it is spent. */
async function spend(budget: SharedRateLimiter, scope: string, what: string): Promise<void> {
  const d = await budget.hit(scope);
  if (!d.ok) throw new ApiError('rate_limited', `too many ${what}; retry later`, { retryAfterMs: d.retryAfterMs });
}

export function mountHttpApi(app: TemplatedApp, deps: HttpDeps): void {
  const { chat, store, tokens } = deps;
  const cors = new CorsPolicy(deps.corsOrigins);
  const routes: Route[] = [
    {
      method: 'post',
      pattern: /^\/api\/users$/,
      name: 'register',
      auth: false,
      handler: async (call) => {
        const b = checkShape(json(call), httpBodies.credentials);
        await spend(deps.budgets.signup, 'all', 'sign-ups');
        return { status: 201, body: await chat.register(b.username, b.password) };
      },
    },
    {
      method: 'post',
      pattern: /^\/api\/sessions$/,
      name: 'login',
      auth: false,
      handler: async (call) => {
        const b = checkShape(json(call), httpBodies.credentials);
        await spend(deps.budgets.loginAddress, call.ip, 'logins from this address');
        await spend(deps.budgets.login, `${call.ip}:${b.username.slice(0, 64)}`, 'logins for this user');
        const user = await chat.login(b.username, b.password);
        const token = await tokens.sign({ userId: user.id, username: user.username });
        return { status: 200, body: { token, user: { id: user.id, username: user.username } } };
      },
    },
    {
      // Log out everywhere: every token issued to the caller so far stops working, on every gateway
      // (HTTP at once, sockets at their next IDENTIFY or RESUME). Log in again for a new one.
      method: 'delete',
      pattern: /^\/api\/sessions$/,
      name: 'logout',
      auth: true,
      handler: async (_call, _p, user) => {
        await chat.revokeTokens(user!.userId);
        return { status: 204 };
      },
    },
    {
      method: 'get',
      pattern: /^\/api\/users\/@me$/,
      name: 'me',
      auth: true,
      handler: async (_c, _p, user) => {
        const u = await store.accounts.get(user!.userId);
        if (!u) throw new ApiError('unauthorized', 'the user of this token no longer exists');
        return { status: 200, body: u };
      },
    },
    {
      method: 'get',
      pattern: /^\/api\/users\/@me\/channels$/,
      name: 'my_channels',
      auth: true,
      handler: async (_c, _p, user) => ({ status: 200, body: await chat.channelsOf(user!.userId) }),
    },
    {
      method: 'post',
      pattern: /^\/api\/channels$/,
      name: 'create_channel',
      auth: true,
      handler: async (call, _p, user) => {
        const b = checkShape(json(call), httpBodies.createChannel);
        const channel = await chat.createChannel(
          { id: user!.userId, username: user!.username },
          b.kind,
          b.name ?? undefined,
          b.recipients ?? [],
          b.invite ?? undefined,
        );
        return { status: 201, body: channel };
      },
    },
    {
      method: 'post',
      pattern: /^\/api\/channels\/([^/]+)\/members$/,
      name: 'add_member',
      auth: true,
      handler: async (call, [channelId], user) => {
        const b = checkShape(json(call), httpBodies.addMember);
        await chat.addMember(user!.userId, checkId(channelId, 'channel'), checkId(b.user_id, 'user'));
        return { status: 204 };
      },
    },
    {
      method: 'delete',
      pattern: /^\/api\/channels\/([^/]+)\/members\/([^/]+)$/,
      name: 'remove_member',
      auth: true,
      handler: async (_c, [channelId, userId], user) => {
        await chat.removeMember(user!.userId, checkId(channelId, 'channel'), checkId(userId, 'user'));
        return { status: 204 };
      },
    },
    {
      method: 'get',
      pattern: /^\/api\/channels\/([^/]+)\/messages$/,
      name: 'history',
      auth: true,
      handler: async (call, [channelId], user) => {
        for (const key of call.query.keys()) {
          if (!['before', 'after', 'limit'].includes(key))
            throw new ApiError('unknown_field', `unknown query parameter "${key}"`);
        }
        const limitRaw = call.query.get('limit');
        const limit = limitRaw === null ? undefined : /^[0-9]{1,3}$/.test(limitRaw) ? Number(limitRaw) : Number.NaN;
        const messages = await chat.history(user!.userId, checkId(channelId, 'channel'), {
          before: snowflakeParam(call.query, 'before'),
          after: snowflakeParam(call.query, 'after'),
          limit,
        });
        return { status: 200, body: messages };
      },
    },
    {
      method: 'post',
      pattern: /^\/api\/channels\/([^/]+)\/messages$/,
      name: 'send',
      auth: true,
      handler: async (call, [channelId], user) => {
        const b = checkShape(json(call), httpBodies.sendMessage);
        const message = await deps.admission.run(() =>
          chat.sendMessage(
            { id: user!.userId, username: user!.username },
            checkId(channelId, 'channel'),
            b.content,
            b.nonce,
          ),
        );
        return { status: 201, body: message };
      },
    },
    {
      method: 'patch',
      pattern: /^\/api\/channels\/([^/]+)\/messages\/([^/]+)$/,
      name: 'edit',
      auth: true,
      handler: async (call, [channelId, messageId], user) => {
        const b = checkShape(json(call), httpBodies.editMessage);
        return {
          status: 200,
          body: await deps.admission.run(() =>
            chat.editMessage(user!.userId, checkId(channelId, 'channel'), checkId(messageId, 'message'), b.content),
          ),
        };
      },
    },
    {
      method: 'delete',
      pattern: /^\/api\/channels\/([^/]+)\/messages\/([^/]+)$/,
      name: 'delete',
      auth: true,
      handler: async (_c, [channelId, messageId], user) => {
        await deps.admission.run(() =>
          chat.deleteMessage(user!.userId, checkId(channelId, 'channel'), checkId(messageId, 'message')),
        );
        return { status: 204 };
      },
    },
  ];

  async function handle(call: Call): Promise<{ route: string; reply: Reply }> {
    if (call.path === '/healthz' && call.method === 'get')
      return { route: 'healthz', reply: { status: 200, body: { status: 'ok' } } };
    if (call.path === '/readyz' && call.method === 'get') {
      const r = await deps.ready();
      return {
        route: 'readyz',
        reply: { status: r.ok ? 200 : 503, body: { status: r.ok ? 'ready' : 'unavailable', checks: r.checks } },
      };
    }
    if (call.path === '/metrics' && call.method === 'get') {
      return {
        route: 'metrics',
        reply: {
          status: 200,
          body: await deps.registry.metrics(),
          headers: { 'content-type': deps.registry.contentType },
        },
      };
    }
    if (PLAIN_GET.has(call.path))
      throw new ApiError('method_not_allowed', `${call.path} takes GET only`, { allow: ['GET'] });
    const path = unversionedPath(call.path);
    const allow = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method.toUpperCase()))];
    if (allow.length > 0 && call.method === 'options') {
      // Also the CORS preflight: its headers only for a configured origin.
      return {
        route: 'options',
        reply: {
          status: 204,
          headers: { allow: [...allow, 'OPTIONS'].join(', '), ...cors.preflight(call.origin, allow) },
        },
      };
    }
    for (const route of routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method !== call.method) continue;
      if (!deps.accepting())
        throw Object.assign(new ApiError('unavailable', 'this gateway is draining; retry'), { route: route.name });
      let user: TokenClaims | null = null;
      if (route.auth) {
        const token = /^Bearer (.+)$/i.exec(call.auth)?.[1];
        user = await tokens.verify(token);
        if (!user) {
          const failures = await deps.budgets.authFailures.hit(call.ip);
          throw Object.assign(
            failures.ok
              ? new ApiError('unauthorized', 'a valid bearer token is required')
              : new ApiError('rate_limited', 'too many failed authentications from this address', {
                  retryAfterMs: failures.retryAfterMs,
                }),
            { route: route.name },
          );
        }
      }
      const limited = user ? await deps.userRate.hit(user.userId) : await deps.ipRate.hit(`ip:${call.ip}`);
      if (!limited.ok) {
        deps.metrics.rateLimited.inc({ scope: 'http' });
        throw Object.assign(new ApiError('rate_limited', 'too many requests', { retryAfterMs: limited.retryAfterMs }), {
          route: route.name,
        });
      }
      try {
        return {
          route: route.name,
          reply: await route.handler(call, m.slice(1).map(decodePathSegment), user),
        };
      } catch (err) {
        throw Object.assign(err as object, { route: route.name });
      }
    }
    throw allow.length > 0
      ? new ApiError('method_not_allowed', `method not allowed; this route takes ${allow.join(', ')}`, {
          allow: [...allow, 'OPTIONS'],
        })
      : new ApiError('not_found', 'no such route');
  }

  app.any('/*', (res: HttpResponse, req: HttpRequest) => {
    // Copy everything from req now: it is invalid after this function returns.
    const method = req.getMethod().toLowerCase();
    const url = req.getUrl();
    const call: Call = {
      method,
      path: url,
      query: new URLSearchParams(req.getQuery() ?? ''),
      auth: req.getHeader('authorization'),
      origin: req.getHeader('origin'),
      ip: deps.addresses.resolve(
        Buffer.from(res.getRemoteAddressAsText()).toString(),
        req.getHeader('x-real-ip'),
        req.getHeader('x-forwarded-for'),
      ),
      body: null,
    };
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const send = (route: string, reply: Reply) => {
      deps.metrics.httpRequests.inc({ route, status: String(reply.status) });
      if (aborted) return;
      const body =
        reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.cork(() => {
        res.writeStatus(STATUS_TEXT[reply.status] ?? String(reply.status));
        if (reply.status !== 204)
          res.writeHeader('content-type', reply.headers?.['content-type'] ?? 'application/json');
        const headers = { ...cors.headers(call.origin), ...reply.headers };
        for (const [k, v] of Object.entries(headers)) if (k !== 'content-type') res.writeHeader(k, v);
        res.end(body);
      });
    };
    const fail = (err: unknown) => {
      const route = (err as { route?: string }).route ?? 'unknown';
      const e = err instanceof ApiError ? err : new ApiError('internal', 'internal error');
      if (!(err instanceof ApiError)) deps.logger.error({ err, path: call.path }, 'http request failed');
      else if (e.status >= 500 && e.code !== 'overloaded')
        // shedding is expected under load: counted, not logged
        deps.logger.warn({ code: e.code, err: e.message, path: call.path }, 'http request failed on a dependency');
      const headers: Record<string, string> = {};
      if (e.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(e.retryAfterMs / 1000)));
      if (e.allow) headers.allow = e.allow.join(', ');
      if (e.status === 401) headers['www-authenticate'] = bearerChallenge(call.auth);
      send(route, { status: e.status, body: { code: e.code, message: e.message }, headers });
    };
    const run = () => handle(call).then(({ route, reply }) => send(route, reply), fail);
    if (method === 'get' || method === 'delete' || method === 'head' || method === 'options') {
      run();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    res.onData((chunk, isLast) => {
      if (tooLarge) return;
      size += chunk.byteLength;
      if (size > deps.bodyMaxBytes) {
        tooLarge = true;
        fail(new ApiError('payload_too_large', `the body is larger than ${deps.bodyMaxBytes} bytes`));
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) {
        call.body = Buffer.concat(chunks);
        run();
      }
    });
  });
}
