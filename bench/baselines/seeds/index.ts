// The seeds' RabbitMQ designs as PeerSystems for the `peers` scenario (README.md beside this file).
import type { PeerSystem } from '../peer.js';
import { SEED_DESIGNS } from './designs.js';
import { seedSystem } from './seed-system.js';

export { SEED_DESIGNS, type SeedDesign } from './designs.js';
export { seedSystem } from './seed-system.js';

/** queue-per-user, redis-map, fanout, green-go-user, green-go-slot, in that order. */
export const seedSystems: PeerSystem[] = SEED_DESIGNS.map(seedSystem);
