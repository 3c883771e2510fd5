// The `ws` client options every load generator of this bench opens its sockets with.
import type { ClientOptions } from 'ws';

/**
 * Fills a frame's masking key with zeros. RFC 6455 §5.3 asks a client for an unpredictable key so that
 * a script cannot choose the bytes an intermediary sees (§10.3); a load generator runs no foreign script,
 * and on a 2-core machine shared with the system under test every µs it spends is taken from the
 * servers. ws fills the key with `randomFillSync` per frame (14 % of a loader's CPU at 1,000 DM/s in a
 * profile) and XORs the payload with it; a zero key is still a masked frame for the server (the MASK bit
 * is set and the server unmasks as always), and ws skips its own XOR pass for it.
 */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/** Options for a load generator's socket from `localAddress` (one loopback address per loader). */
export function loadgenSocketOptions(localAddress: string): ClientOptions {
  return { localAddress, perMessageDeflate: false, handshakeTimeout: 30_000, generateMask: zeroMask };
}
