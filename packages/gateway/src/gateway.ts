// createGateway(): one gateway process — uWS server (WebSocket + HTTP API), one AMQP consumer for
// its own queue feeding the local index, periodic session checks, and the SIGTERM drain.

import type { us_listen_socket, WebSocket } from 'uWebSockets.js';
import { CloseCode, type DispatchEnvelope, frame, type Logger, Op } from '@chat/protocol';
import type { Router, SnowflakeGenerator } from '@chat/router';
import type { Store } from '@chat/store';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { WriteAdmission } from './admission.js';
import { createTokenService, revocable, type TokenService } from './auth.js';
import { ChatService } from './chat-service.js';
import { ClientAddresses } from './client-address.js';
import type { GatewayConfig } from './config.js';
import { endToEnd } from './end-to-end-latency.js';
import { NonceGuard, SharedRateLimiter } from './guards.js';
import { mountHttpApi } from './http-api.js';
import { IdleGc } from './idle-gc.js';
import { LocalIndex, type Member } from './local-index.js';
import { createMetrics, type DependencyChecks, type GatewayMetrics } from './metrics.js';
import { Presence } from './presence.js';
import { PresenceRegistry } from './presence-registry.js';
import { dedupeKey, Session, type SessionHost } from './session.js';
import { SocketCaps } from './socket-caps.js';
import { loadNativeUws } from './uws.js';
import { UwsSocket } from './uws-socket.js';

export interface GatewayDeps {
  config: GatewayConfig;
  router: Router;
  store: Store;
  redis: Redis;
  ids: SnowflakeGenerator;
  registry: Registry;
  logger: Logger;
}

export interface Gateway {
  readonly port: number;
  readonly tokens: TokenService;
  readonly chat: ChatService;
  readonly metrics: GatewayMetrics;
  connections(): number;
  /** Drain: stop accepting, RECONNECT every client, unbind and delete the queue, close. Bounded by drainTimeoutMs. */
  drain(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface UserData {
  session?: Session;
  /** The client's address, resolved at the upgrade. */
  address?: string;
}

export async function createGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, router, store, redis, logger, registry } = deps;
  const uws = loadNativeUws();
  const sessions = new Set<Session>();
  let admission: WriteAdmission | undefined;
  const metrics = createMetrics(
    registry,
    () => sessions.size,
    () => admission?.inFlight ?? 0,
    () => {
      let bytes = 0;
      for (const s of sessions) bytes += s.bufferedAmount();
      return bytes;
    },
    dependencies,
  );
  /** What /readyz and the chat_gateway_dependency_up gauge report. */
  async function dependencies(): Promise<DependencyChecks> {
    const checks = { broker: router.isReady, redis: redis.status === 'ready', mongodb: false };
    try {
      await store.ping();
      checks.mongodb = true;
    } catch {
      checks.mongodb = false;
    }
    return checks;
  }
  const index = new LocalIndex();
  const tokens = revocable(createTokenService(config.jwtSecret, config.jwtTtlSeconds), store.accounts);
  const keyPrefix = `${config.prefix}:`;
  let nonceWarned = 0;
  const nonces = new NonceGuard(redis, keyPrefix, {
    onError: (err) => {
      if (Date.now() - nonceWarned > 10_000) {
        nonceWarned = Date.now();
        logger.warn({ err: (err as Error).message }, 'nonce de-duplication unavailable (Redis); sending without it');
      }
    },
  });
  const chat = new ChatService({
    router,
    store,
    ids: deps.ids,
    nonces,
    logger,
    maxContentLength: config.maxContentLength,
    defaultGroup: config.defaultGroup,
    onConfirm: (s) => {
      metrics.sendConfirmSeconds.observe(s);
      admission?.observeConfirm(s * 1000);
    },
    overloadRetryAfterMs: config.overloadRetryAfterMs,
    onQueueFull: () => metrics.overloaded.inc({ reason: 'queue_full' }),
    maxGroupsPerUser: config.maxGroupsPerUser,
    maxGroupMembers: config.maxGroupMembers,
  });
  admission = new WriteAdmission({
    maxInFlight: config.maxInflightWrites,
    maxPerConnection: config.maxInflightWritesPerConnection,
    retryAfterMs: config.overloadRetryAfterMs,
    confirmTargetMs: config.overloadConfirmTargetMs,
    pathTargetMs: config.overloadPathTargetMs,
    onRefused: (reason) => metrics.overloaded.inc({ reason }),
  });
  await chat.ensureDefaultGroup();
  const userRate = new SharedRateLimiter(redis, keyPrefix, config.userRateRequests, config.rateWindowMs);
  const ipRate = new SharedRateLimiter(redis, `${keyPrefix}http:`, config.httpRateRequests, config.rateWindowMs);
  const budgets = {
    login: new SharedRateLimiter(redis, `${keyPrefix}login:`, config.loginRateRequests, config.rateWindowMs),
    loginAddress: new SharedRateLimiter(
      redis,
      `${keyPrefix}login-ip:`,
      config.loginAddressRateRequests,
      config.rateWindowMs,
    ),
    authFailures: new SharedRateLimiter(redis, `${keyPrefix}auth-fail:`, config.authFailureBudget, config.rateWindowMs),
    signup: new SharedRateLimiter(redis, `${keyPrefix}signup:`, config.signupRateRequests, config.rateWindowMs),
  };
  const addresses = new ClientAddresses(config.trustedProxies);
  const caps = new SocketCaps({
    maxPendingPerAddress: config.maxPendingSocketsPerAddress,
    maxIdentifiedPerAddress: config.maxSocketsPerAddress,
  });
  let accepting = true;
  const idleGc = new IdleGc({
    minChanges: 1000,
    quietMs: 3000,
    // Not while presence has leaves waiting out their grace or running: a mass disconnect's offline work
    // starts when the grace ends, and one collection after it gets that garbage too (w3: 19,760 sockets of
    // 198 users closed, after close 1.21× when the collection ran before the leaves).
    busy: () => presence?.busy ?? false,
    onCollect: (c) =>
      logger.info(
        { changes: c.changes, ms: Math.round(c.ms), freed_mib: Math.round(c.freedBytes / 1048576) },
        'collected garbage after connection churn',
      ),
  });

  const presence = new Presence({
    registry: new PresenceRegistry({
      redis,
      prefix: keyPrefix,
      serverId: config.serverId,
      timeoutMs: config.presenceTimeoutMs,
    }),
    router,
    channels: store.channels,
    limits: { maxGroupMembers: config.presenceMaxGroupMembers, maxAudience: config.presenceMaxAudience },
    heartbeatMs: config.presenceHeartbeatMs,
    offlineGraceMs: config.presenceOfflineGraceMs,
    localUsers: () => index.userIds(),
    localUserCount: () => index.users,
    onActivity: () => idleGc.changed(Date.now()),
    metrics,
    logger,
  });
  await presence.start();

  const host: SessionHost = {
    serverId: config.serverId,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    identifyTimeoutMs: config.identifyTimeoutMs,
    maxFrameBytes: config.maxFrameBytes,
    rateFrames: config.rateFrames,
    rateWindowMs: config.rateWindowMs,
    rateBurst: config.rateBurst,
    maxBackpressureBytes: config.maxBackpressureBytes,
    slowConsumerGraceMs: config.slowConsumerGraceMs,
    resumeMax: config.resumeMax,
    resumeHorizonMs: config.resumeHorizonMs,
    maxSocketsPerUser: config.maxSocketsPerUser,
    attachTimeoutMs: 15_000,
    verifyToken: (t) => tokens.verify(t),
    attach: (u) => router.attach(u),
    detach: (u) => router.detach(u),
    channelsOf: (u) => store.channels.listForUser(u),
    changesSince: (c, since, cap) => store.messages.changesSince(c, since, cap),
    userRate: (u) => userRate.hit(u),
    authFailed: async (address) => !(await budgets.authFailures.hit(address)).ok,
    caps,
    authenticated: () => idleGc.changed(Date.now()),
    chat,
    admission,
    index,
    presence,
    metrics,
    logger,
  };

  // One consumer per process: every envelope for this gateway, fanned out to local sockets.
  await router.consume((env: DispatchEnvelope) => {
    const path = endToEnd(env, Date.now());
    if (path !== undefined) {
      metrics.endToEndSeconds.observe(path.seconds);
      // This gateway's own writes coming back: the whole path's latency, on this machine's clock.
      if (path.workerId === deps.ids.workerId) admission?.observePath(path.seconds * 1000);
    }
    applyMembership(env);
    const audience: Member[] = [];
    if (env.to) {
      for (const user of env.to) for (const m of index.membersOfUser(user)) audience.push(m);
    } else if (env.channel_id !== undefined) {
      for (const m of index.membersOfChannel(env.channel_id)) audience.push(m);
    }
    metrics.envelopes.inc({ audience: audience.length > 0 ? 'local' : 'none' });
    if (audience.length === 0) return;
    // Serialised once per envelope, framed per socket (each frame has that socket's sequence).
    const payloadJson = JSON.stringify(env.data);
    const key = dedupeKey(env.event, env.data);
    for (const m of audience) m.deliver(env.event, payloadJson, key);
  });

  /** Membership events change which channels local sockets hear, on whichever gateway holds them. */
  function applyMembership(env: DispatchEnvelope): void {
    const d = env.data as { channel_id?: string; user_id?: string; id?: string; member_ids?: string[] } | null;
    if (!d) return;
    if (env.event === 'CHANNEL_MEMBER_ADD' && d.channel_id && d.user_id) {
      for (const m of index.membersOfUser(d.user_id)) index.subscribe(m, d.channel_id);
    } else if (env.event === 'CHANNEL_MEMBER_REMOVE' && d.channel_id && d.user_id) {
      for (const m of index.membersOfUser(d.user_id)) index.unsubscribe(m, d.channel_id);
    } else if (env.event === 'CHANNEL_CREATE' && d.id && Array.isArray(d.member_ids)) {
      for (const u of d.member_ids) for (const m of index.membersOfUser(u)) index.subscribe(m, d.id);
    }
  }

  const app = uws.App();
  app.ws<UserData>('/ws', {
    compression: uws.DISABLED,
    // Larger than our frame limit so that an oversize frame gets our 4010, not uWS's own close.
    maxPayloadLength: Math.max(config.maxFrameBytes * 4, 64 * 1024),
    // Our own limit decides (docs/design.md §6); uWS must not drop frames silently before that.
    maxBackpressure: 256 * 1024 * 1024,
    closeOnBackpressureLimit: 0,
    idleTimeout: 0,
    sendPingsAutomatically: false,
    upgrade: (res, req, context) => {
      if (!accepting) {
        res.writeStatus('503 Service Unavailable').end('draining');
        return;
      }
      const address = addresses.resolve(
        Buffer.from(res.getRemoteAddressAsText()).toString(),
        req.getHeader('x-real-ip'),
        req.getHeader('x-forwarded-for'),
      );
      const refusal = caps.refusal(address);
      if (refusal) {
        metrics.rateLimited.inc({ scope: 'sockets_per_address' });
        res.writeStatus('429 Too Many Requests').end(refusal);
        return;
      }
      res.upgrade<UserData>(
        { address },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws: WebSocket<UserData>) => {
      const data = ws.getUserData();
      const session = new Session(new UwsSocket(ws), host, caps.open(data.address ?? ''));
      data.address = undefined;
      data.session = session;
      sessions.add(session);
      idleGc.changed(Date.now());
      session.open();
    },
    message: (ws, message, isBinary) => {
      ws.getUserData().session?.message(message, isBinary);
    },
    drain: (ws) => {
      ws.getUserData().session?.drained();
    },
    close: (ws) => {
      const session = ws.getUserData().session;
      if (!session) return;
      sessions.delete(session);
      idleGc.changed(Date.now());
      session.closed();
    },
  });

  mountHttpApi(app, {
    chat,
    admission,
    store,
    tokens,
    userRate,
    ipRate,
    registry,
    metrics,
    logger,
    bodyMaxBytes: config.httpBodyMaxBytes,
    corsOrigins: config.corsOrigins,
    accepting: () => accepting,
    addresses,
    budgets,
    ready: async () => {
      const checks = await dependencies();
      return { ok: checks.broker && checks.redis && checks.mongodb, checks };
    },
  });

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(config.host, config.port, (sock) =>
      sock ? resolve(sock) : reject(new Error(`cannot listen on ${config.host}:${config.port}`)),
    );
  });
  const port = uws.us_socket_local_port(listenSocket);

  // One timer for all sessions, not one per socket.
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const s of sessions) s.tick(now);
      idleGc.tick(now);
    },
    Math.min(1000, Math.max(50, Math.floor(config.heartbeatIntervalMs / 4))),
  );
  sweep.unref();

  let draining: Promise<void> | undefined;
  return {
    port,
    tokens,
    chat,
    metrics,
    connections: () => sessions.size,
    drain() {
      draining ??= (async () => {
        accepting = false;
        uws.us_listen_socket_close(listenSocket);
        const deadline = Date.now() + config.drainTimeoutMs;
        const reconnect = frame(Op.RECONNECT, null);
        for (const session of sessions) session.sendRaw(reconnect);
        // Clients that read RECONNECT leave by themselves; close whoever is left after a moment.
        await sleep(Math.min(1000, config.drainTimeoutMs / 4));
        for (const session of [...sessions]) session.close(CloseCode.GOING_AWAY, 'server draining');
        while (sessions.size > 0 && Date.now() < deadline) await sleep(20);
        clearInterval(sweep);
        // Offline for the users who left and are nowhere else, then this gateway leaves the registry.
        await presence.stop(deadline);
        await Promise.race([router.drain(), sleep(Math.max(0, deadline - Date.now()))]);
        await router.close();
      })();
      return draining;
    },
  };
}
