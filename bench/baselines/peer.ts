// What the `peers` scenario needs from each system it compares (ours, Socket.IO + Redis adapter, the
// seeds' RabbitMQ designs): start it on this machine with a known set of users and channels, tell the
// load generators how to reach it, and name the processes whose CPU and memory count as its cost.
// Every implementation delivers the same chat behaviour: a message sent to a channel reaches every
// member's connected sockets (the sender's included), no storage unless the system is durable by design.

/** A channel of the workload: its id and its members' user ids (DMs have two, the W2 group many). */
export interface PeerChannel {
  id: string;
  members: string[];
}

export interface PeerStartOptions {
  /** User ids `u0 … u<n-1>`; the load generators connect one socket per user unless told otherwise. */
  users: string[];
  channels: PeerChannel[];
  /** HS256 secret the load generators sign tokens with (systems that authenticate verify it). */
  jwtSecret: string;
  /** Server processes to start (W1: 2). */
  servers: number;
  /** Unique per run: prefix for every queue, exchange and Redis key the system creates. */
  prefix: string;
}

export interface PeerInstance {
  /** WebSocket URL of each server process; clients are spread over them evenly. */
  urls: string[];
  /**
   * The wire protocol clients speak: 'chat' is the gateway protocol subset the load generator speaks
   * (HELLO, IDENTIFY with a JWT → READY, HEARTBEAT, REQUEST message.create → RESPONSE,
   * DISPATCH MESSAGE_CREATE to every member); 'socketio' is Socket.IO 4 (websocket transport only).
   */
  protocol: 'chat' | 'socketio';
  /** Processes whose CPU and RSS are this system's cost, by label (servers, persister, stand-in…). */
  processes: Array<{ label: string; pid: number }>;
  /**
   * Durable systems: messages stored so far (e.g. the persister's counter), so that the scenario can
   * compare acked with stored once a step has drained. Absent for systems that store nothing.
   */
  stored?(): Promise<number>;
  /** Stops every process it started and deletes every queue, exchange and key it created. */
  stop(): Promise<void>;
}

export interface PeerSystem {
  /** Short name used in flags and tables, e.g. `ours`, `socketio`, `queue-per-user`. */
  name: string;
  /** One line for the results page: what the design is and whether it stores messages. */
  description: string;
  durable: boolean;
  start(options: PeerStartOptions): Promise<PeerInstance>;
}
