// Who the client is, for per-address budgets and caps: the TCP peer, unless the peer is a configured
// trusted proxy (TRUSTED_PROXIES, CIDRs), in which case X-Real-IP (or else the nearest untrusted hop
// of X-Forwarded-For) names it. Guarantees: a header from any other peer is ignored, a header that is
// not an IP address is ignored, and the answer is always a canonical address string (IPv4-mapped
// IPv6 written as IPv4). Matching is node's net.BlockList.
import { BlockList, isIP } from 'node:net';

/** A CIDR or single address, split; undefined when it is neither. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', bits, ...rest] = text.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const max = version === 4 ? 32 : 128;
  if (bits !== undefined && !/^[0-9]{1,3}$/.test(bits)) return undefined;
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; anything else unchanged. */
export function canonicalAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}

export class ClientAddresses {
  readonly #trusted = new BlockList();
  readonly #any: boolean;

  constructor(trustedProxies: readonly string[]) {
    for (const c of trustedProxies) {
      const p = parseCidr(c);
      if (!p) throw new Error(`not an address or CIDR: "${c}"`);
      this.#trusted.addSubnet(p.address, p.prefix, p.family);
    }
    this.#any = trustedProxies.length > 0;
  }

  /** Whether an address belongs to a trusted proxy. */
  isTrusted(address: string): boolean {
    if (!this.#any) return false;
    const a = canonicalAddress(address);
    const version = isIP(a);
    return version !== 0 && this.#trusted.check(a, version === 4 ? 'ipv4' : 'ipv6');
  }

  /** The client's address from the TCP peer and the proxy headers (read only from a trusted peer). */
  resolve(peer: string, realIp: string, forwardedFor: string): string {
    const p = canonicalAddress(peer);
    if (!this.isTrusted(p)) return p;
    const real = realIp.trim();
    if (real !== '' && isIP(real) !== 0) return canonicalAddress(real);
    // X-Forwarded-For: client, proxy1, proxy2 — the rightmost hop that is not ours is the client.
    const hops = forwardedFor.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!.trim();
      if (isIP(hop) === 0) break;
      if (!this.isTrusted(hop)) return canonicalAddress(hop);
    }
    return p;
  }
}
