// The pure parts of issue #12's hardening: trusted-proxy address resolution (CIDR matching),
// percent-decoding of path segments, own-property validation, snowflake ids, socket caps, and the
// gateway configuration of the new limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpBodies } from '@chat/protocol';
import { ClientAddresses, canonicalAddress, parseCidr } from '../../src/client-address.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ApiError } from '../../src/errors.js';
import { SocketCaps } from '../../src/socket-caps.js';
import { checkShape, decodePathSegment, isId } from '../../src/validation.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ApiError ? err.code : `not an ApiError: ${String(err)}`;
  }
};

describe('hardening units', () => {
  it('parses CIDRs and single addresses, refuses anything else', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    assert.deepEqual(parseCidr('127.0.0.1'), { address: '127.0.0.1', prefix: 32, family: 'ipv4' });
    assert.deepEqual(parseCidr('fd00::/8'), { address: 'fd00::', prefix: 8, family: 'ipv6' });
    for (const bad of ['', '10.0.0.0/33', '10.0.0/8', 'nginx', '10.0.0.0/8/1', '::/129', '10.0.0.0/-1', '1.2.3.4/ 8'])
      assert.equal(parseCidr(bad), undefined, bad);
    assert.equal(canonicalAddress('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(canonicalAddress('2001:DB8::1'), '2001:db8::1');
  });

  it('honours X-Real-IP / X-Forwarded-For only from trusted proxies, and only when they hold an address', () => {
    const a = new ClientAddresses(['10.0.0.0/8', '::1']);
    assert.equal(a.resolve('10.1.2.3', '203.0.113.9', ''), '203.0.113.9');
    assert.equal(a.resolve('::ffff:10.1.2.3', '203.0.113.9', ''), '203.0.113.9', 'IPv4-mapped peer');
    assert.equal(a.resolve('::1', '', '203.0.113.5, 10.0.0.7'), '203.0.113.5', 'nearest untrusted hop');
    assert.equal(a.resolve('10.1.2.3', '', '198.51.100.1, 203.0.113.5'), '203.0.113.5', 'not the spoofable first hop');
    assert.equal(a.resolve('10.1.2.3', 'not-an-ip', ''), '10.1.2.3');
    assert.equal(a.resolve('10.1.2.3', '', 'junk, 10.0.0.7'), '10.1.2.3');
    assert.equal(a.resolve('192.0.2.50', '203.0.113.9', '203.0.113.9'), '192.0.2.50', 'untrusted peer');
    assert.equal(new ClientAddresses([]).resolve('127.0.0.1', '203.0.113.9', ''), '127.0.0.1', 'nobody trusted');
  });

  it('decodes path segments; malformed percent-encoding is invalid_request, not an exception', () => {
    assert.equal(decodePathSegment('a%20b'), 'a b');
    assert.equal(decodePathSegment('%E2%82%AC'), '€');
    for (const bad of ['%FF', '%C0', '%', '%E0%A4%A', '%zz'])
      assert.equal(
        codeOf(() => decodePathSegment(bad)),
        'invalid_request',
        bad,
      );
  });

  it('validates own properties only: inherited names are unknown fields, absent own fields are missing', () => {
    const shape = httpBodies.credentials;
    for (const field of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const body = JSON.parse(`{"username":"u","password":"p","${field}":"x"}`);
      assert.equal(
        codeOf(() => checkShape(body, shape)),
        'unknown_field',
        field,
      );
    }
    const inherits = Object.create({ username: 'u', password: 'p' });
    assert.equal(
      codeOf(() => checkShape(inherits, shape)),
      'invalid_request',
      'inherited values do not count',
    );
    assert.equal(
      codeOf(() => checkShape({ username: 'u', password: 'p' }, shape)),
      undefined,
    );
  });

  it('ids are snowflakes: decimal, no leading zeros, below 2^63', () => {
    for (const ok of ['0', '1', '9223372036854775807', '123456789012345678']) assert.equal(isId(ok), true, ok);
    for (const bad of [
      '',
      '01',
      '-1',
      '1.5',
      ' 1',
      '9223372036854775808',
      '18446744073709551615',
      '99999999999999999999',
      5,
      null,
    ])
      assert.equal(isId(bad), false, String(bad));
  });

  it('socket caps per address: pending and identified, released exactly once', () => {
    const caps = new SocketCaps({ maxPendingPerAddress: 2, maxIdentifiedPerAddress: 2 });
    const a = caps.open('a');
    const b = caps.open('a');
    assert.match(caps.refusal('a') ?? '', /unidentified/);
    assert.equal(caps.refusal('b'), undefined);
    caps.identified(a);
    caps.identified(b);
    assert.match(caps.refusal('a') ?? '', /too many connections/);
    caps.close(a, true);
    assert.equal(caps.refusal('a'), undefined);
    const c = caps.open('a');
    caps.close(c, false);
    caps.close(b, true);
    assert.deepEqual([b.pending, b.identified], [0, 0], 'all released');
    const d = caps.open('a');
    assert.notEqual(d, b, 'an address with no socket had no entry left');
  });

  it('configuration: the new limits have defaults, TRUSTED_PROXIES is checked, TRUST_PROXY names its replacement', () => {
    const base = { JWT_SECRET: 'x'.repeat(32) };
    const c = loadConfig(base);
    assert.equal(c.maxSocketsPerUser, 25);
    assert.equal(c.maxPendingSocketsPerAddress, 32);
    assert.equal(c.maxSocketsPerAddress, 5000);
    assert.deepEqual(c.trustedProxies, []);
    assert.deepEqual(loadConfig({ ...base, TRUSTED_PROXIES: '10.0.0.0/8, ::1' }).trustedProxies, ['10.0.0.0/8', '::1']);
    assert.throws(() => loadConfig({ ...base, TRUSTED_PROXIES: 'nginx' }), ConfigError);
    assert.throws(() => loadConfig({ ...base, TRUST_PROXY: 'true' }), /TRUSTED_PROXIES/);
  });
});
