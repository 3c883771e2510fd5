// @chat/router/hashing — the routing arithmetic alone (no amqplib), for browsers and clients.
export { BUCKET_MS, bucketOf, fnv1a32, partitionOf, slotOf } from './internal/hashing.js';
