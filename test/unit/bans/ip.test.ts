import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseBanAddress, parseBanAddresses } from '../../../src/bans/ip.js';

describe('ban addresses are parsed strictly', () => {
  test.each([
    ['198.51.100.7', { ip: '198.51.100.7', family: 'ipv4' }],
    [' 203.0.113.9 ', { ip: '203.0.113.9', family: 'ipv4' }],
    ['2001:DB8:0:0::1', { ip: '2001:db8::1', family: 'ipv6' }],
    ['::ffff:192.0.2.5', { ip: '192.0.2.5', family: 'ipv4' }],
  ])('%s is a host address', (raw, want) => {
    expect(parseBanAddress(raw)).toEqual(want);
  });

  test.each([
    '', '10.1', '0x7f.0.0.1', '010.0.0.1', '192.0.2.0/24', '1.2.3.4 5.6.7.8', '1.2.3.4\nflush', 'fe80::1%eth0',
    '0.0.0.0', '255.255.255.255', '::', 'ff02::1', 'example.org', '-j ACCEPT', '1.2.3.256',
    // The IPv4 tail of IPv6 text is read as strictly as IPv4 itself; "::192.0.2.5" (IPv4-compatible, deprecated and
    // never a packet's source) is not the IPv4 host 192.0.2.5.
    '::ffff:010.0.0.1', '::ffff:192.0.2.05', '::ffff:0x0a.0.0.1', '::192.0.2.5',
  ])('%j is refused', (raw) => {
    expect(parseBanAddress(raw)).toBeUndefined();
  });

  test('whatever is accepted is printable as ipset prints it: no blanks, no newlines, only address characters', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      const a = parseBanAddress(s);
      return a === undefined || /^[0-9a-f.:]+$/.test(a.ip);
    }), { numRuns: 2000 });
  });

  test('a list reports every bad entry and de-duplicates the good ones', () => {
    expect(parseBanAddresses(['192.0.2.1', 'nope', '192.0.2.1', '2001:db8::1', '1.2'])).toEqual({
      ok: [{ ip: '192.0.2.1', family: 'ipv4' }, { ip: '2001:db8::1', family: 'ipv6' }],
      bad: ['nope', '1.2'],
    });
  });
});

describe('network bans (ban CIDR)', () => {
  test('a network up to 65536 addresses, host bits cleared; a /32 is its host; larger ones and /0 are refused', async () => {
    const { parseBanNetwork, expandBan, isNetworkBan } = await import('../../../src/bans/ip.js');
    expect(parseBanNetwork('198.51.100.77/24')).toEqual({ ip: '198.51.100.0/24', family: 'ipv4' });
    expect(parseBanNetwork('198.51.100.7/32')).toEqual({ ip: '198.51.100.7', family: 'ipv4' });
    expect(parseBanNetwork('2001:db8::/120')).toEqual({ ip: '2001:db8::/120', family: 'ipv6' });
    for (const bad of ['10.0.0.0/15', '0.0.0.0/0', '2001:db8::/64', '10.0.0.0/33', '10.1/24']) expect(parseBanNetwork(bad)).toBeUndefined();
    expect(isNetworkBan({ ip: '198.51.100.0/30' })).toBe(true);
    expect(expandBan({ ip: '198.51.100.0/30', family: 'ipv4' })).toEqual(['198.51.100.0', '198.51.100.1', '198.51.100.2', '198.51.100.3']);
    expect(expandBan({ ip: '2001:db8::fe/127', family: 'ipv6' })).toEqual(['2001:db8::fe', '2001:db8::ff']);
    expect(expandBan({ ip: '10.0.0.0/16', family: 'ipv4' })).toHaveLength(65536);
  });
});
