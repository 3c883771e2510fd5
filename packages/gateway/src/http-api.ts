// The HTTP API of docs/protocol.md §6 on uWebSockets.js: the transport around the command table.
// Routes map to commands in http-routes.ts; here: body reading, auth, rate budgets, admission for
// durable commands, status codes, headers and CORS. Documented under `/api/v1/…`; `/api/…` is the
// same API (an alias kept for older clients). HTTP semantics kept: a 405 names the route's methods in
// `Allow`, a 401 carries `WWW-Authenticate: Bearer`, OPTIONS answers with `Allow` (and a CORS preflight
// for configured origins). uWS rules followed here: everything read from `req` is copied before the
// first await, onAborted is registered before any async work, and writes are corked.
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '@chat/protocol';
import type { Registry } from 'prom-client';
import type { WriteAdmission } from './admission.js';
import type { TokenClaims } from './auth.js';
import type { ClientAddresses } from './client-address.js';
import { COMMANDS, type Command, type CommandServices, NOBODY } from './commands.js';
import { CorsPolicy } from './cors.js';
import { ApiError, failureOf } from './errors.js';
import type { RateLimiter } from './guards.js';
import { type HttpRoute, paramsOf, ROUTES, unversionedPath } from './http-routes.js';
import type { GatewayMetrics } from './metrics.js';
import { decodePathSegment } from './validation.js';

export { API_V1_PREFIX, unversionedPath } from './http-routes.js';

export interface HttpDeps {
  /** What commands call (the ChatService, the store, tokens, abuse budgets). */
  services: CommandServices;
  /** Bounds durable writes in flight (the durable commands). */
  admission: WriteAdmission;
  userRate: RateLimiter;
  ipRate: RateLimiter;
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

/** The `WWW-Authenticate` challenge of a 401 (RFC 6750): `invalid_token` when a token was sent. */
export function bearerChallenge(authorization: string): string {
  return authorization.trim() === '' ? 'Bearer realm="chat"' : 'Bearer realm="chat", error="invalid_token"';
}

/** Endpoints outside the API, GET only. */
const PLAIN_GET = new Set(['/healthz', '/readyz', '/metrics']);

export function mountHttpApi(app: TemplatedApp, deps: HttpDeps): void {
  const cors = new CorsPolicy(deps.corsOrigins);

  /** The error's status, body and headers (Retry-After, Allow, WWW-Authenticate). */
  function errorReply(err: unknown, call: Call): Reply {
    const e = failureOf(err, deps.logger, { path: call.path });
    const headers: Record<string, string> = {};
    if (e.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(e.retryAfterMs / 1000)));
    if (e.allow) headers.allow = e.allow.join(', ');
    if (e.status === 401) headers['www-authenticate'] = bearerChallenge(call.auth);
    return { status: e.status, body: { code: e.code, message: e.message }, headers };
  }

  /** Health, readiness and metrics: outside the API, GET only. */
  async function plain(call: Call): Promise<Reply> {
    if (call.method !== 'get')
      throw new ApiError('method_not_allowed', `${call.path} takes GET only`, { allow: ['GET'] });
    if (call.path === '/healthz') return { status: 200, body: { status: 'ok' } };
    if (call.path === '/readyz') {
      const r = await deps.ready();
      return { status: r.ok ? 200 : 503, body: { status: r.ok ? 'ready' : 'unavailable', checks: r.checks } };
    }
    return { status: 200, body: await deps.registry.metrics(), headers: { 'content-type': deps.registry.contentType } };
  }

  /** The caller of an authenticated route; `unauthorized` (or `rate_limited` past the address's failures) otherwise. */
  async function authenticate(call: Call): Promise<TokenClaims> {
    const user = await deps.services.tokens.verify(/^Bearer (.+)$/i.exec(call.auth)?.[1]);
    if (user) return user;
    const failures = await deps.services.budgets.authFailures.hit(call.ip);
    throw failures.ok
      ? new ApiError('unauthorized', 'a valid bearer token is required')
      : new ApiError('rate_limited', 'too many failed authentications from this address', {
          retryAfterMs: failures.retryAfterMs,
        });
  }

  /** One API request to a matched route: draining, auth, rate budget, params, then the command. */
  async function execute(route: HttpRoute, captures: string[], call: Call): Promise<Reply> {
    if (!deps.accepting()) throw new ApiError('unavailable', 'this gateway is draining; retry');
    const command: Command = COMMANDS[route.method];
    const user = command.auth ? await authenticate(call) : null;
    const limited = user ? await deps.userRate.hit(user.userId) : await deps.ipRate.hit(`ip:${call.ip}`);
    if (!limited.ok) {
      deps.metrics.rateLimited.inc({ scope: 'http' });
      throw new ApiError('rate_limited', 'too many requests', { retryAfterMs: limited.retryAfterMs });
    }
    const params = paramsOf(route, call, captures.map(decodePathSegment));
    const caller = user ? { id: user.userId, username: user.username } : NOBODY;
    const run = () => command.run(deps.services, caller, params, call.ip);
    const result = command.durable ? await deps.admission.run(run) : await run();
    return { status: route.status, body: route.status === 204 ? undefined : result };
  }

  /** The reply to a request and the route label it is counted under. */
  async function handle(call: Call): Promise<{ route: string; reply: Reply }> {
    let route = 'unknown';
    try {
      if (PLAIN_GET.has(call.path)) {
        const reply = await plain(call);
        return { route: call.path.slice(1), reply };
      }
      const path = unversionedPath(call.path);
      const allow = [...new Set(ROUTES.filter((r) => r.pattern.test(path)).map((r) => r.verb.toUpperCase()))];
      if (allow.length > 0 && call.method === 'options') {
        // Also the CORS preflight: its headers only for a configured origin.
        const headers = { allow: [...allow, 'OPTIONS'].join(', '), ...cors.preflight(call.origin, allow) };
        return { route: 'options', reply: { status: 204, headers } };
      }
      for (const r of ROUTES) {
        const m = r.verb === call.method ? r.pattern.exec(path) : null;
        if (!m) continue;
        route = r.name;
        return { route, reply: await execute(r, m.slice(1), call) };
      }
      throw allow.length > 0
        ? new ApiError('method_not_allowed', `method not allowed; this route takes ${allow.join(', ')}`, {
            allow: [...allow, 'OPTIONS'],
          })
        : new ApiError('not_found', 'no such route');
    } catch (err) {
      return { route, reply: errorReply(err, call) };
    }
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
    const run = () => handle(call).then(({ route, reply }) => send(route, reply));
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
        send(
          'unknown',
          errorReply(new ApiError('payload_too_large', `the body is larger than ${deps.bodyMaxBytes} bytes`), call),
        );
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
