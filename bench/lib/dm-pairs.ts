// The DM channels of the W1 workload (w1, peers): K rounds of a seeded random perfect matching of the
// users, so every user gets up to K DM partners and every run draws the same pairs.
import { seededRandom } from './stats.js';

/** Pairs of user numbers 0..n-1, in the order drawn; a pair drawn twice is kept once. */
export function dmPairs(n: number, rounds: number, seed = 7): Array<[number, number]> {
  const rand = seededRandom(seed);
  const partners = Array.from({ length: n }, () => new Set<number>());
  const pairs: Array<[number, number]> = [];
  for (let round = 0; round < rounds; round++) {
    const perm = Array.from({ length: n }, (_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    for (let i = 0; i + 1 < perm.length; i += 2) {
      const a = perm[i]!;
      const b = perm[i + 1]!;
      if (partners[a]!.has(b)) continue;
      partners[a]!.add(b);
      partners[b]!.add(a);
      pairs.push([a, b]);
    }
  }
  return pairs;
}
