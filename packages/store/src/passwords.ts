// Password hashing with Node's scrypt, stored as `scrypt$N$r$p$salt$hash` (base64) so parameters can
// grow: a hash made with weaker parameters still verifies, and is replaced on the next good login.
//
// Default cost: N = 2^17, r = 8, p = 1 (OWASP's current guidance for scrypt): 128 MiB and a few
// hundred ms of CPU per hash. So hashes are rationed: at most `maxConcurrent` run at once (memory is
// maxConcurrent × 128 MiB), at most `maxQueued` wait, and the rest fail at once with
// PasswordHasherBusyError (retryable) — a sign-up or login flood cannot exhaust memory or queue
// without bound. Benchmarks and tests that register thousands of users lower `logN` through
// configuration, as they raise rate limits.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { PasswordHasherBusyError } from './errors.js';

const R = 8;
const P = 1;
const KEY_LEN = 32;

export interface PasswordHasherOptions {
  /** log2 of scrypt's N. Default 17 (N = 131072). 10..20. */
  logN?: number;
  /** Hashes computed at once. Default 2. */
  maxConcurrent?: number;
  /** Hashes waiting for a turn; past it `PasswordHasherBusyError`. Default 64. */
  maxQueued?: number;
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number, keyLen: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem: scrypt needs 128 × N × r bytes; stored hashes may carry any N up to 2^20.
    const maxmem = 128 * n * r + 1024 * 1024;
    scrypt(password.normalize('NFKC'), salt, keyLen, { N: n, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export class PasswordHasher {
  readonly n: number;
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(options: PasswordHasherOptions = {}) {
    const logN = options.logN ?? 17;
    if (!Number.isInteger(logN) || logN < 10 || logN > 20) throw new RangeError('logN must be an integer in 10..20');
    this.n = 2 ** logN;
    this.#maxConcurrent = Math.max(1, options.maxConcurrent ?? 2);
    this.#maxQueued = Math.max(0, options.maxQueued ?? 64);
  }

  /** Hashes running and waiting. */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length };
  }

  /** A new hash of `password` with the current parameters. Rejects with PasswordHasherBusyError when rationed. */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await this.#turn(() => derive(password, salt, this.n, R, P, KEY_LEN));
    return `scrypt$${this.n}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  /** Whether `password` matches `stored` (constant time in the key comparison); false for malformed hashes. */
  async verify(password: string, stored: string): Promise<boolean> {
    const [scheme, n, r, p, salt, hash] = stored.split('$');
    if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
    const N = Number(n);
    if (!Number.isInteger(N) || N < 2 || N > 2 ** 20 || Number(r) !== R || Number(p) !== P) return false;
    const expected = Buffer.from(hash, 'base64');
    const key = await this.#turn(() => derive(password, Buffer.from(salt, 'base64'), N, R, P, expected.length));
    return key.length === expected.length && timingSafeEqual(key, expected);
  }

  /** Whether a stored hash was made with weaker parameters than the current ones. */
  outdated(stored: string): boolean {
    return Number(stored.split('$')[1]) < this.n;
  }

  async #turn<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#maxConcurrent) {
      if (this.#waiting.length >= this.#maxQueued) {
        throw new PasswordHasherBusyError('too many password checks at once; retry shortly');
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter; otherwise it is freed.
      if (next) next();
      else this.#running -= 1;
    }
  }
}
