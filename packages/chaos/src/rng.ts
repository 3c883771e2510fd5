// The run's seeded randomness (pure-rand's xoroshiro128+): one seed reproduces the workload's choices
// and the nemesis's schedule and targets.
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

type Generator = ReturnType<typeof xoroshiro128plus>;

export class Rng {
  readonly #g: Generator;

  constructor(seed: number) {
    this.#g = xoroshiro128plus(seed);
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return uniformInt(this.#g, lo, hi);
  }

  /** A float in [0, 1). */
  next(): number {
    return this.int(0, 999_999) / 1_000_000;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }
}
