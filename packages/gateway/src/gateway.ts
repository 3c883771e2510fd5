// createGateway(): one gateway process, composed — the chat service and its guards, the hub fed by the
// router's consumer for this gateway's queue, presence, the uWS server (WebSocket + HTTP API), one
// periodic sweep of the sessions, and the SIGTERM drain.

import { CloseCode, type Logger } from '@chat/protocol';
import { DeadLetterQueue, type DispatchGap, type Router, type SnowflakeGenerator } from '@chat/router';
import type { Store } from '@chat/store';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { AdminService } from './admin-service.js';
import { WriteAdmission } from './admission.js';
import { createTokenService, revocable, type TokenService } from './auth.js';
import { batchedReads } from './batched-reads.js';
import { createBudgets } from './budgets.js';
import { ChatService } from './chat-service.js';
import { ClientAddresses } from './client-address.js';
import type { CommandServices } from './commands.js';
import type { GatewayConfig } from './config.js';
import { dmWarmup } from './dm-warmup.js';
import { drainGateway } from './drain.js';
import { GatewayReports } from './gateway-reports.js';
import { Hub } from './hub.js';
import { IdleGc } from './idle-gc.js';
import { createMetrics, type DependencyChecks, type GatewayMetrics } from './metrics.js';
import { NonceGuard } from './nonce-guard.js';
import { Presence } from './presence.js';
import { PresenceRegistry } from './presence-registry.js';
import { RabbitManagement } from './rabbit-management.js';
import { ReadStateService } from './read-states.js';
import { reconnectAll } from './reconnect-all.js';
import type { Session, SessionHost } from './session.js';
import { SocketCaps } from './socket-caps.js';
import { loadNativeUws } from './uws.js';
import { startServer } from './uws-server.js';

/** An IDENTIFY/RESUME's attach waits this long without binding progress, then closes 4000 (attach-deadline.ts). */
const ATTACH_TIMEOUT_MS = 15_000;
/** ...and never longer than this, progress or not. */
const ATTACH_MAX_MS = 60_000;

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

export async function createGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, router, store, redis, logger, registry } = deps;
  const uws = loadNativeUws();
  const sessions = new Set<Session>();
  const metrics = createMetrics(
    registry,
    () => sessions.size,
    () => admission.inFlight,
    () => {
      let bytes = 0;
      for (const s of sessions) bytes += s.bufferedAmount();
      return bytes;
    },
    dependencies,
    () => admission.path,
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
  // A reconnect storm's token checks, RESUME channel reads and replays, one query per batch (batched-reads.ts).
  const batched = batchedReads(store);
  // The DMs of a user who just identified or resumed, learned before the first send in them (dm-warmup.ts).
  const warmDms = dmWarmup(store.channels);
  const tokens = revocable(createTokenService(config.jwtSecret, config.jwtTtlSeconds), batched);
  const keyPrefix = `${config.prefix}:`;
  let nonceWarned = 0;
  const nonces = new NonceGuard(redis, keyPrefix, {
    recoveryMs: config.nonceRecoveryMs,
    onError: (err) => {
      if (Date.now() - nonceWarned > 10_000) {
        nonceWarned = Date.now();
        logger.warn({ err: (err as Error).message }, 'nonce records unavailable (Redis); refusing writes with a nonce');
      }
    },
  });
  await nonces.observe();
  const admission = new WriteAdmission({
    maxInFlight: config.maxInflightWrites,
    maxPerConnection: config.maxInflightWritesPerConnection,
    retryAfterMs: config.overloadRetryAfterMs,
    confirmTargetMs: config.overloadConfirmTargetMs,
    pathTargetMs: config.overloadPathTargetMs,
    onRefused: (reason) => metrics.overloaded.inc({ reason }),
  });
  const hub = new Hub({ router, metrics, admission, workerId: deps.ids.workerId, logger });
  const index = hub.index;
  const chat = new ChatService({
    router,
    store,
    ids: deps.ids,
    nonces,
    logger,
    announce: (event, to, data) => hub.announce(event, to, data),
    maxContentLength: config.maxContentLength,
    defaultGroup: config.defaultGroup,
    onConfirm: (s, written) => {
      metrics.sendConfirmSeconds.observe(s);
      admission.observeConfirm(s * 1000);
      // Its MESSAGE_CREATE comes back here when the author has a socket here (its key is bound here).
      if (index.membersOfUser(written.authorId).length > 0) admission.pathConfirmed(written.id);
    },
    overloadRetryAfterMs: config.overloadRetryAfterMs,
    onQueueFull: () => metrics.overloaded.inc({ reason: 'queue_full' }),
    maxGroupsPerUser: config.maxGroupsPerUser,
    maxGroupMembers: config.maxGroupMembers,
    replyToPendingMs: config.replyToPendingMs,
  });
  await chat.ensureDefaultGroup();
  const { userRate, ipRate, auth: budgets } = createBudgets(redis, keyPrefix, config);
  const reads = new ReadStateService({
    store,
    router,
    requireMember: (c, u) => chat.requireMember(c, u),
    logger,
  });
  const reports = new GatewayReports({
    redis,
    prefix: keyPrefix,
    serverId: config.serverId,
    timeoutMs: config.presenceTimeoutMs,
  });
  const admin = new AdminService({
    config: config.admin,
    prefix: config.prefix,
    reports,
    management: new RabbitManagement({
      url: config.admin.managementUrl,
      user: config.admin.managementUser,
      password: config.admin.managementPassword,
      vhost: config.admin.vhost,
    }),
    deadLetters: new DeadLetterQueue({ urls: config.amqpUrls, tls: config.amqpTls, prefix: config.prefix }),
    logger,
  });
  const services: CommandServices = { chat, store, tokens, budgets, reads, admin };
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
    memberChannels: (u) => batched.memberChannels(u),
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
    attachTimeoutMs: ATTACH_TIMEOUT_MS,
    attachMaxMs: ATTACH_MAX_MS,
    bindingProgressAt: () => router.bindingProgressAt(),
    verifyToken: (t) => tokens.verify(t),
    attach: (u) => router.attach(u),
    detach: (u) => router.detach(u),
    // READY's channels carry the user's read state; a RESUME only needs the ids and kinds.
    channelsOf: async (u) => {
      const channels = await reads.channelsOf(u);
      warmDms(channels);
      return channels;
    },
    memberChannels: async (u) => {
      const channels = await batched.memberChannels(u);
      warmDms(channels);
      return channels;
    },
    changesSince: (c, since, cap) => batched.changesSince(c, since, cap),
    userRate: (u) => userRate.hit(u),
    authFailed: async (address) => !(await budgets.authFailures.hit(address)).ok,
    caps,
    authenticated: () => idleGc.changed(Date.now()),
    services,
    admission,
    index,
    presence,
    metrics,
    logger,
  };

  // This gateway's figures for the operator's view, every presence heartbeat.
  reports.start(
    config.presenceHeartbeatMs,
    () => ({ connections: sessions.size, users: index.users }),
    (err) => logger.warn({ err: (err as Error).message }, 'gateway report to Redis failed; retrying'),
  );

  // One consumer per process: every envelope for this gateway, fanned out to local sockets.
  await router.consume(hub.deliver);
  // Dispatches for this gateway may have been lost (its queue's broker node died): every socket open
  // now may have missed events, so each is asked to RECONNECT and RESUME from what it saw last.
  router.on('dispatch-gap', (gap: DispatchGap) => {
    if (!accepting) return;
    logger.warn({ ...gap, sockets: sessions.size }, 'dispatches may have been lost; asking every socket to RESUME');
    void reconnectAll(sessions, 1000, CloseCode.UNKNOWN_ERROR, 'events may have been lost: reconnect and RESUME');
  });

  const server = await startServer({
    uws,
    host: config.host,
    port: config.port,
    maxFrameBytes: config.maxFrameBytes,
    sessionHost: host,
    sessions,
    churn: () => idleGc.changed(Date.now()),
    caps,
    addresses,
    metrics,
    http: {
      services,
      admission,
      userRate,
      ipRate,
      registry,
      metrics,
      logger,
      bodyMaxBytes: config.httpBodyMaxBytes,
      corsOrigins: config.corsOrigins,
      accepting: () => accepting,
      addresses,
      ready: async () => {
        const checks = await dependencies();
        return { ok: checks.broker && checks.redis && checks.mongodb, checks };
      },
    },
  });

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
    port: server.port,
    tokens,
    chat,
    metrics,
    connections: () => sessions.size,
    drain: () =>
      (draining ??= drainGateway({
        stopAccepting: () => {
          accepting = false;
          server.close();
          void reports.stop();
        },
        sessions,
        stopSweep: () => clearInterval(sweep),
        presence,
        router,
        timeoutMs: config.drainTimeoutMs,
      })),
  };
}
