// What one insert costs a bounded map at its bound, when every insert evicts the oldest entry:
// a plain Map evicting `keys().next()` (what KnownTops, DmMemberships, GroupSizes and RecentIds did
// until 2026-12-04) against @chat/store's KnownTops and DmMemberships (lru-cache). A Map's first key
// after many deletes is found by walking every slot deleted since its last rehash, so that eviction
// costs O(capacity); lru-cache's is O(1).
//   node --import tsx bench/tools/bounded-maps.ts [inserts=300000]
import { DmMemberships, KnownTops } from '@chat/store';

const N = Number(process.argv[2] ?? 300_000);

function timePerInsert(fill: number, insert: (i: number) => void): number {
  for (let i = 0; i < fill; i++) insert(i);
  const t0 = performance.now();
  for (let i = fill; i < fill + N; i++) insert(i);
  return ((performance.now() - t0) * 1000) / N;
}

console.log(`µs per insert of a new key at the bound (${N.toLocaleString('en')} inserts after filling)`);
console.log('| capacity | Map, evicting keys().next() | KnownTops.saw | DmMemberships.remember |');
console.log('|---:|---:|---:|---:|');
for (const cap of [10_000, 50_000, 100_000]) {
  const ids = Array.from({ length: N + cap }, (_, i) => String(264905529753620487n + BigInt(i)));
  const map = new Map<string, number>();
  const plain = timePerInsert(cap, (i) => {
    if (map.size >= cap) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(ids[i]!, i);
  });
  const tops = new KnownTops({ maxChannels: cap });
  const known = timePerInsert(cap, (i) => tops.saw(ids[i]!, 1));
  const dms = new DmMemberships(cap);
  const members = timePerInsert(cap, (i) => dms.remember(ids[i]!, { kind: 'other' }));
  console.log(`| ${cap.toLocaleString('en')} | ${plain.toFixed(2)} | ${known.toFixed(2)} | ${members.toFixed(2)} |`);
}
