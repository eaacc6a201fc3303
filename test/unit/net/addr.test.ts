/**
 * The one strict reading of address text (src/net/addr.ts): IPv4 only as four decimal numbers 0-255 without leading
 * zeros, also inside networks and as the dotted tail of IPv6 text. Node's net.isIPv4/isIPv6 are the reference: they
 * are strict in exactly this way (inet_pton's reading), unlike inet_aton and ipaddr.js.
 */
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { isIPv4, isIPv6 } from 'node:net';
import { describe, expect, test } from 'vitest';
import { isDottedQuad, parseIPv6, parseNetwork } from '../../../src/net/addr.js';

const HOSTILE_IPV4 = ['010.1.1.1', '0127.0.0.1', '1.2.3', '10.1', '0x0a.1.1.1', '00.1.1.1', '1.2.3.04', '256.1.1.1',
  '1.2.3.4.', '.1.2.3.4', '1..2.3', ' 1.2.3.4', '1.2.3.4 ', '+1.2.3.4', '1e2.1.1.1', '\u0663.1.1.1', '\uff11.2.3.4', '4294967295', ''];

describe('IPv4: four decimal numbers 0-255, no leading zeros', () => {
  test.each(['0.0.0.0', '192.0.2.10', '255.255.255.255', '10.0.0.0', '100.64.0.1'])('%s is read', (text) => {
    expect(isDottedQuad(text)).toBe(true);
  });

  test.each(HOSTILE_IPV4)('%j is refused', (text) => {
    expect(isDottedQuad(text)).toBe(false);
  });

  test('accepts exactly what inet_pton (node:net isIPv4) accepts', () => {
    const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '010', '0x1', '', ' 1', '1 '));
    const text = fc.oneof(fc.array(part, { minLength: 1, maxLength: 5 }).map((p) => p.join('.')), fc.string());
    fc.assert(fc.property(text, (t) => isDottedQuad(t) === isIPv4(t)), { numRuns: 20_000 });
  });
});

describe('IPv6: the dotted tail is read by the same rule, and a zone is not an address', () => {
  test.each([
    ['::ffff:192.0.2.5', '::ffff:c000:205'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
    // As inet_pton reads it (IPv4-compatible), not quietly turned into the v4-mapped ::ffff:192.0.2.5.
    ['::192.0.2.5', '::c000:205'],
    ['1:2:3:4:5:6:192.0.2.5', '1:2:3:4:5:6:c000:205'],
    ['2001:DB8::1', '2001:db8::1'],
  ])('%s is %s', (text, canonical) => {
    expect(parseIPv6(text)?.toString()).toBe(canonical);
  });

  test.each(['::ffff:010.1.1.1', '::ffff:0x0a.1.1.1', '::ffff:1.2.3', '::ffff:1.2.3.4.5', '::ffff:192.0.2.05', 'fe80::1%eth0',
    'fe80::1%25eth0', '1:2:3:4:5:6:7:1.2.3.4', '00001::1', '2001:db8::/32', ' ::1', '192.0.2.1'])('%j is refused', (text) => {
    expect(parseIPv6(text)).toBeUndefined();
  });

  test('accepts exactly what inet_pton (node:net isIPv6) accepts, zones aside', () => {
    const group = fc.oneof(fc.integer({ min: 0, max: 0xfffff }).map((n) => n.toString(16)), fc.constantFrom('', '0', 'ffff', '010.1.1.1', '192.0.2.1', '1.2.3'));
    const text = fc.oneof(fc.array(group, { minLength: 1, maxLength: 9 }).map((g) => g.join(':')), fc.string());
    fc.assert(fc.property(text, (t) => (parseIPv6(t) !== undefined) === (isIPv6(t) && !t.includes('%'))), { numRuns: 20_000 });
  });
});

describe('networks: a strict address, then /PREFIX in plain decimal; host bits cleared', () => {
  test.each([
    ['192.0.2.77/24', { family: 'ipv4', network: '192.0.2.0', prefix: 24 }],
    ['198.51.100.7', { family: 'ipv4', network: '198.51.100.7', prefix: 32 }],
    ['0.0.0.0/0', { family: 'ipv4', network: '0.0.0.0', prefix: 0 }],
    ['2001:db8::1/32', { family: 'ipv6', network: '2001:db8::', prefix: 32 }],
    ['::ffff:192.0.2.77/120', { family: 'ipv6', network: '::ffff:c000:200', prefix: 120 }],
    ['2001:db8::1', { family: 'ipv6', network: '2001:db8::1', prefix: 128 }],
  ])('%s', (text, want) => {
    expect(parseNetwork(text)).toEqual(want);
  });

  test('an IPv6 host is its own network, as its bytes read back through ipaddr say', () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    const text = fc.oneof(fc.array(group, { minLength: 8, maxLength: 8 }).map((g) => g.join(':')),
      fc.tuple(fc.array(group, { maxLength: 3 }), fc.array(group, { maxLength: 3 })).map(([a, b]) => `${a.join(':')}::${b.join(':')}`));
    fc.assert(fc.property(text, (t) => {
      expect(parseNetwork(t)?.network).toBe(ipaddr.fromByteArray(ipaddr.IPv6.parse(t).toByteArray()).toString());
    }), { numRuns: 5_000 });
  });

  test.each(['0300.0250.1.0/24', '010.1.1.1/32', '10.1/16', '192.0.2.0/024', '192.0.2.0/08', '192.0.2.0/33', '192.0.2.0/',
    '192.0.2.0/24/1', '/24', '2001:db8::/129', '2001:db8::/+32', 'fe80::/64%eth0', '::ffff:010.1.1.0/120'])('%j is refused', (text) => {
    expect(parseNetwork(text)).toBeUndefined();
  });
});
