// Remote ports the leak check treats as AMQP: 5672, every port a testkit node listens on, and
// any port registered by a caller. Shared by the node launcher and the leak check.

const ports = new Set<number>([5672]);

/** Counts sockets to `port` as AMQP connections in the leak check. Idempotent. */
export function registerAmqpPort(port: number): void {
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) throw new RangeError(`not a TCP port: ${port}`);
  ports.add(port);
}

export function isAmqpPort(port: number | undefined): boolean {
  return port !== undefined && ports.has(port);
}
