// When a dispatch goes to every gateway queue instead of to its keys (docs/protocol.md §2).
//
// A publish to the front exchange (direct) with several keys (the first as routing key, the rest in
// `CC`) is routed by RabbitMQ before 3.11 with one `ets:select` over *every* binding of the exchange,
// testing each against all the keys (`rabbit_router:match_routing_key/2` for a key list; 3.11 added
// the `direct_exchange_routing_v2` feature flag, an index looked up per key). In slot granularity a
// gateway binds each occupied slot there, so on such a broker the cost of a multi-key dispatch grows
// with gateways × slots: measured on 3.10.8 (bench/results/broadcast-2026-12-03.md, 1,000 bindings)
// two keys cost the broker 233–428 µs per message against 43–67 µs for one. Every gateway queue
// therefore also binds the broadcast key, and a dispatch with more keys than the threshold is
// published once with that key only: one exact lookup, one delivery per gateway queue. It travels
// as a dispatch bundle, whose records carry their keys, so each gateway keeps only the records
// addressed to a key it binds (dispatch-consumer.ts).
// The price is a delivery to gateways that hold none of the audience.

/** The key every gateway queue binds on the front exchange; no user or slot key can equal it (they have a dot). */
export const BROADCAST_KEY = 'all';

/** The `broadcastAboveKeys` option: a key count, `'auto'` (by broker version) or `'off'`. */
export type BroadcastSetting = number | 'auto' | 'off';

/**
 * The largest key count still published to its keys; above it a dispatch is broadcast.
 * `'auto'`: 1 on a broker that reports a version before 3.11 (multi-key routing scans every binding),
 * otherwise never (Infinity), as for `'off'`.
 */
export function broadcastAbove(setting: BroadcastSetting, brokerVersion: string | undefined): number {
  if (setting === 'off') return Number.POSITIVE_INFINITY;
  if (setting !== 'auto') return setting;
  const m = /^(\d+)\.(\d+)/.exec(brokerVersion ?? '');
  if (!m) return Number.POSITIVE_INFINITY;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major < 3 || (major === 3 && minor < 11) ? 1 : Number.POSITIVE_INFINITY;
}
