/**
 * Discovery for issue 16: every address of every interface (secondary ones too), IPv6 addresses and subnets from
 * the interface or MYIP6/NETMASK6, a host with IPv6 only found by its IPv6 default route, and ip_forward read
 * when the config routes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { discoverHost, localAddresses } from '../../../src/discover/host.js';
import { defaultRouteIfaces } from '../../../src/discover/routes.js';
import { compile } from '../../../src/compile/plan.js';
import { hostAddresses, recordOf } from '../../../src/state/loaded.js';
import { config } from '../fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tsfw-disc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const info = (family: 'IPv4' | 'IPv6', address: string, prefix: number, internal = false): NetworkInterfaceInfo =>
  ({ address, netmask: '', family, mac: '00:00:00:00:00:00', internal, cidr: `${address}/${prefix}`, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as NetworkInterfaceInfo;
const INTERFACES = {
  lo: [info('IPv4', '127.0.0.1', 8, true), info('IPv6', '::1', 128, true)],
  eth0: [info('IPv4', '192.0.2.10', 24), info('IPv4', '192.0.2.50', 32), info('IPv6', '2001:DB8:1::10', 64), info('IPv6', 'fe80::10', 64)],
  eth1: [info('IPv4', '192.0.2.253', 30)],
};
const V6_ONLY = { lo: INTERFACES.lo, eth0: INTERFACES.eth0.filter((a) => a.family === 'IPv6') };

const route4 = join(dir, 'route');
writeFileSync(route4, 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\nnone\n');
const route6 = join(dir, 'ipv6_route');
writeFileSync(route6, [
  '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
  '00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000100000000000000000001 00000400 00000001 00000000 00000003     eth0',
  '',
].join('\n'));
const noRoutes = { procRoute: join(dir, 'missing'), procRoute6: join(dir, 'missing6'), scan: false } as const;

describe('every address counts', () => {
  test('localAddresses: all interfaces, secondary addresses, link-local IPv6, canonical, no loopback', () => {
    expect(localAddresses(INTERFACES)).toEqual(['192.0.2.10', '192.0.2.50', '2001:db8:1::10', 'fe80::10', '192.0.2.253']);
  });

  test('discovery gives MYIP, the interface\'s IPv6 addresses and subnets, and every local address', async () => {
    const host = await discoverHost(config('INTERFACE=eth0\nIPV6=mirror'), { ...noRoutes, interfaces: () => INTERFACES });
    expect(host).toMatchObject({
      iface: 'eth0', myip: '192.0.2.10', prefix: 24, myip6: ['2001:db8:1::10'], subnets6: ['2001:db8:1::/64'],
      locals: ['192.0.2.10', '192.0.2.50', '2001:db8:1::10', 'fe80::10', '192.0.2.253'],
    });
    expect(hostAddresses(host)).toEqual(['192.0.2.10', '2001:db8:1::10', '192.0.2.50', 'fe80::10', '192.0.2.253']);
  });

  test('the loaded record names a link-local address only where the rules do (IPV6=mirror)', async () => {
    const host = await discoverHost(config('INTERFACE=eth0'), { ...noRoutes, interfaces: () => INTERFACES });
    const addresses = (ipv6: string) => recordOf(host, compile(config(`IPV6=${ipv6}`), host)).addresses;
    expect(addresses('drop')).toEqual(['192.0.2.10', '2001:db8:1::10', '192.0.2.50', '192.0.2.253']);
    expect(addresses('mirror')).toContain('fe80::10');
  });

  test('a static MYIP still counts the other addresses; MYIP6/NETMASK6 fix the IPv6 ones', async () => {
    const host = await discoverHost(config('MYIP=192.0.2.10\nNETMASK=24\nMYIP6=2001:db8:7::1\nNETMASK6=48'), { ...noRoutes, interfaces: () => INTERFACES });
    expect(host).toMatchObject({ myip: '192.0.2.10', myip6: ['2001:db8:7::1'], subnets6: ['2001:db8:7::/48'] });
    expect(host.locals).toContain('192.0.2.253');
  });
});

describe('a host with IPv6 only', () => {
  test('the IPv6 default route names the interface; MYIP is absent, MYIP6 and NETMASK6 come from it', async () => {
    expect(defaultRouteIfaces({ route4, route6 })).toEqual({ ipv6: 'eth0' });
    const host = await discoverHost(config('IPV6=mirror'), { procRoute: route4, procRoute6: route6, scan: false, interfaces: () => V6_ONLY });
    expect(host.myip).toBeUndefined();
    expect(host).toMatchObject({ iface: 'eth0', myip6: ['2001:db8:1::10'], subnets6: ['2001:db8:1::/64'], locals: ['2001:db8:1::10', 'fe80::10'] });
  });

  test('under IPV6=drop it is refused, saying what would work', async () => {
    await expect(discoverHost(config('INTERFACE=eth0'), { ...noRoutes, interfaces: () => V6_ONLY }))
      .rejects.toThrow(/interface eth0 has no IPv4 address .*; it has IPv6 addresses only \(2001:db8:1::10\): set IPV6=mirror/);
    await expect(discoverHost(config('IPV6=drop'), { procRoute: route4, procRoute6: route6, scan: false, interfaces: () => V6_ONLY }))
      .rejects.toThrow(/no default route/);
  });
});

test('ip_forward is read only when the config routes', async () => {
  const plain = await discoverHost(config('INTERFACE=eth0'), { ...noRoutes, interfaces: () => INTERFACES });
  expect(plain.ipForward).toBeUndefined();
  const router = await discoverHost(config('INTERFACE=eth0\nROUTE_A_FROM=any\nROUTE_A_TO=any'), { ...noRoutes, interfaces: () => INTERFACES });
  expect(typeof router.ipForward).toBe('boolean');
});

test('an interface the config names that this host does not have is said, with the ones it has', async () => {
  const host = await discoverHost(config('INTERFACE=eth0\nINTERFACE_wgnone9_POLICY=accept\nSERVICE_SSH_INTERFACES=wgnone9'), { ...noRoutes, interfaces: () => INTERFACES });
  expect(host.warnings).toEqual([expect.stringMatching(/^SERVICE_SSH_INTERFACES names interface wgnone9, which this host does not have now \(present: .*\); its rules match once it exists$/)]);
});
