import fc from 'fast-check';
import { expect, test } from 'vitest';
import { guardFor, refusalFor, refusalMessage, refusalsFor, type BanGuardFacts } from '../../../src/safety/ban-guard.js';

const facts: BanGuardFacts = {
  sessions: [{ client: '192.0.2.2', clientPort: 40000, server: '192.0.2.1', serverPort: 22 }],
  adminSources: ['198.51.100.7'],
  hostAddresses: [
    { iface: 'lo', address: '127.0.0.1', cidr: '127.0.0.1/8' },
    { iface: 'eth0', address: '192.0.2.1', cidr: '192.0.2.1/24' },
    { iface: 'eth1', address: '198.51.100.1', cidr: '198.51.100.1/31' },
    { iface: 'eth0', address: '2001:db8::1', cidr: '2001:db8::1/64' },
  ],
  trusted: [{ net: '203.0.113.0/25', key: 'TRUSTED_NETS' }, { net: '2001:db8:9::/48', key: 'TRUSTED_NETS' }],
};

test.each([
  ['192.0.2.2', /live SSH session \(192\.0\.2\.2:40000 -> 192\.0\.2\.1:22\)/],
  ['::ffff:192.0.2.2', /live SSH session/],
  ['192.0.2.1', /this host's own address \(eth0\)/],
  ['2001:db8::1', /this host's own address \(eth0\)/],
  ['127.0.0.53', /loopback/],
  ['::1', /loopback/],
  ['224.0.0.1', /multicast/],
  ['ff02::1', /multicast/],
  ['255.255.255.255', /limited broadcast/],
  ['192.0.2.255', /broadcast address of 192\.0\.2\.0\/24 \(eth0\)/],
  ['203.0.113.100', /TRUSTED_NETS \(203\.0\.113\.0\/25\)/],
  ['2001:db8:9::5', /TRUSTED_NETS \(2001:db8:9::\/48\)/],
  ['198.51.100.7', /recent admin address/],
])('%s is refused', (ip, reason) => {
  expect(refusalFor(ip, facts)?.reason).toMatch(reason);
});

test.each(['192.0.2.3', '203.0.113.200', '198.51.100.0', '2001:db8::2', '198.51.100.255'])('%s may be banned', (ip) => {
  // 198.51.100.0 and .255 are not eth1's broadcast: a /31 has none.
  expect(refusalFor(ip, facts)).toBeUndefined();
});

test('only a remembered admin address yields to --force; a live session never does', () => {
  expect(refusalFor('198.51.100.7', facts)?.forceable).toBe(true);
  for (const ip of ['192.0.2.2', '192.0.2.1', '203.0.113.1', '127.0.0.1', '192.0.2.255']) expect(refusalFor(ip, facts)?.forceable, ip).toBe(false);
  expect(refusalsFor(['198.51.100.7', '192.0.2.2'], facts, { force: true }).map((r) => r.ip)).toEqual(['192.0.2.2']);
  expect(refusalsFor(['198.51.100.7'], facts, { force: true })).toEqual([]);
});

test('a trusted v4-mapped network covers the IPv4 address', () => {
  expect(refusalFor('203.0.113.9', { ...facts, trusted: [{ net: '::ffff:203.0.113.0/120', key: 'TRUSTED_NETS' }] })?.reason).toMatch(/TRUSTED_NETS/);
});

test('the batch message names a few refused addresses, then counts the rest, and says nothing was banned', () => {
  const refused = refusalsFor(Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1}`), facts);
  const msg = refusalMessage(refused, 10);
  expect(msg).toMatch(/^refusing to ban 8 of 10 addresses: 127\.0\.0\.1: it is a loopback address; .*127\.0\.0\.5: it is a loopback address; and 3 more; nothing was banned$/);
  expect(msg).not.toContain('127.0.0.6');
  expect(refusalMessage(refusalsFor(['192.0.2.2'], facts), 1)).toMatch(/^refusing to ban 192\.0\.2\.2: it is the client of a live SSH session .*; nothing was banned$/);
});

// A dotted quad is judged as its 32 bits against ipaddr's range table and the trusted prefixes; the same address as
// IPv4-mapped text still goes through ipaddr's parse, range() and match(), so both must refuse alike.
test('dotted quads: the 32-bit path refuses exactly what the ipaddr path refuses', () => {
  const octet = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 2, 10, 100, 127, 169, 192, 198, 203, 224, 239, 240, 254, 255));
  const quad = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
  const net = fc.tuple(quad, fc.integer({ min: 0, max: 32 })).map(([q, n]) => `${q}/${n}`);
  const mapped = fc.tuple(quad, fc.integer({ min: 90, max: 128 })).map(([q, n]) => `::ffff:${q}/${n}`);
  const world = fc.record({
    trusted: fc.array(fc.oneof(net, mapped, fc.constant('2001:db8::/32'), fc.constant('not-a-net')), { maxLength: 4 }),
    own: fc.array(fc.tuple(quad, fc.integer({ min: 8, max: 32 })), { maxLength: 3 }),
    admins: fc.array(quad, { maxLength: 2 }),
    probes: fc.array(quad, { minLength: 1, maxLength: 40 }),
  });
  fc.assert(fc.property(world, (w) => {
    const guard = guardFor({
      sessions: [{ client: w.own[0]?.[0] ?? '192.0.2.2', clientPort: 40000, server: '192.0.2.1', serverPort: 22 }],
      adminSources: w.admins,
      hostAddresses: w.own.map(([address, n]) => ({ iface: 'eth0', address, cidr: `${address}/${n}` })),
      trusted: w.trusted.map((t) => ({ net: t, key: 'TRUSTED_NETS' })),
    });
    // The facts' own addresses and broadcasts, and the probes.
    const ips = [...w.probes, ...w.own.map(([a]) => a), ...w.admins, '255.255.255.255', '0.0.0.0', '127.0.0.1', '224.0.0.1'];
    for (const ip of ips) expect(guard(ip), ip).toEqual(guard(`::ffff:${ip}`));
  }), { numRuns: 3000 });
});
