// The seeds' RabbitMQ designs this directory implements, by name: what each one is (one line for the
// results page) and which routing module its server processes load. No I/O here.

export const SEED_DESIGNS = ['queue-per-user', 'redis-map', 'fanout', 'green-go-user', 'green-go-slot'] as const;
export type SeedDesign = (typeof SEED_DESIGNS)[number];

export const DESCRIPTIONS: Readonly<Record<SeedDesign, string>> = {
  'queue-per-user':
    'seed failure 1: one RabbitMQ queue per user, declared on IDENTIFY and consumed by its server; one publish per member; no storage',
  'redis-map':
    'seed failure 3: Redis hash user → server, one queue per server, a map lookup and one publish per server holding members, per message; no storage',
  fanout: 'one fanout exchange: every server gets every message and drops those without a local member; no storage',
  'green-go-user':
    'the seed’s Green Go as specified: per-server queue bound by user keys on partitioned topic exchanges (@chat/router, granularity user); no storage',
  'green-go-slot':
    'our binding scheme: per-server queue bound by slot keys (@chat/router, granularity slot), same dispatch path; no storage',
};

export function isSeedDesign(name: string): name is SeedDesign {
  return (SEED_DESIGNS as readonly string[]).includes(name);
}
