// The pluggable part of a seed server: how a message published by one server reaches the servers
// holding the channel's members. The chat protocol (chat-server.ts) is the same for every design;
// each design is one module implementing `Routing` (routing-*.ts).
import type { Membership } from './membership.js';

/** The message object of docs/protocol.md §4 that MESSAGE_CREATE carries. */
export interface ChatMessage {
  id: string;
  channel_id: string;
  author: { id: string; username: string };
  content: string;
  timestamp: string;
  edited_timestamp: null;
  nonce: string | null;
  type: 0;
}

/** What a routing hands its deliveries to: the server's local sockets. */
export interface LocalDelivery {
  /** MESSAGE_CREATE to this server's sockets of the channel's members (payload already serialised). */
  toChannel(channelId: string, payloadJson: string): void;
  /** MESSAGE_CREATE to this server's sockets of one user. */
  toUser(userId: string, payloadJson: string): void;
}

export interface RoutingContext {
  serverId: string;
  /** Unique per run: every queue, exchange (`<prefix>.…`) and Redis key (`<prefix>:…`) starts with it. */
  prefix: string;
  amqpUrl: string;
  redisUrl: string;
  membership: Membership;
  deliver: LocalDelivery;
  /** The broker connection is gone: these baselines do not recover, the process exits. */
  fail(reason: string, err?: unknown): void;
  /** Something went wrong that the server survives; logged once per kind. */
  onError(kind: string, err: unknown): void;
}

/**
 * One design's routing. The server calls `attach` when a user's first socket here identifies and
 * `detach` when its last one leaves (never twice in a row for one user). Deliveries are at most once
 * (nothing is persisted, nothing is redelivered after a crash).
 */
export interface Routing {
  /** Resolves once messages to this user reach this server. */
  attach(userId: string): Promise<void>;
  detach(userId: string): void;
  /** Sends the message towards every member of the channel (the sender included); resolves once handed to the broker. */
  publish(message: ChatMessage, payloadJson: string, members: readonly string[]): Promise<void>;
  /** Removes what this server created that outlives its connection, then disconnects. */
  close(): Promise<void>;
}

export type RoutingFactory = (ctx: RoutingContext) => Promise<Routing>;
