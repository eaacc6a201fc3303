import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkInterfaceInfo } from 'node:os';
import ipaddr from 'ipaddr.js';
import { afterAll, describe, expect, test } from 'vitest';
import { bootFacts, discoverHost, interfaceNames, localSubnet } from '../../../src/discover/host.js';
import { config } from '../fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tsfw-procdev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('interfaceNames lists every interface in /proc/net/dev, addressed or not', () => {
  const path = join(dir, 'dev');
  writeFileSync(path, [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
    '  eth0:    1234      10    0    0    0     0          0         0      567       5    0    0    0     0       0          0',
    '  nov4:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
    '',
  ].join('\n'));
  expect(interfaceNames(path)).toEqual(['lo', 'eth0', 'nov4']);
  expect(interfaceNames(join(dir, 'missing'))).toBeUndefined();
});

const v4 = (address: string, prefix: number): NetworkInterfaceInfo =>
  ({ address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/${prefix}` });
const v6 = (address: string): NetworkInterfaceInfo =>
  ({ address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/64`, scopeid: 0 });
const HOST_INTERFACES = { lo: [v4('127.0.0.1', 8)], eth0: [v4('192.0.2.11', 24), v6('2001:db8::11')] };
const noRoute = join(dir, 'no-route');

test('a static MYIP that is on no interface of this host is warned about, naming MYIP and the addresses there are', async () => {
  const host = await discoverHost(config('MYIP=192.0.2.10\nNETMASK=24'), { procRoute: noRoute, scan: false, interfaces: () => HOST_INTERFACES });
  expect(host.myip).toBe('192.0.2.10');
  expect(host.warnings).toEqual([
    'MYIP=192.0.2.10 is on no interface of this host (interfaces: lo 127.0.0.1/8, eth0 192.0.2.11/24): the rules are made for an address ' +
      'this host does not have; check MYIP, or leave it empty to read the address from the interface',
  ]);
});

test('a static MYIP on any interface, or on none at all yet at boot, is not', async () => {
  const onEth1 = { ...HOST_INTERFACES, eth1: [v4('192.0.2.10', 24)] };
  const host = await discoverHost(config('MYIP=192.0.2.10\nNETMASK=24\nINTERFACE=eth0'), { scan: false, interfaces: () => onEth1 });
  expect(host.warnings).toEqual([]);
  // start --early runs before the network is up: the address is not there yet, and that is expected.
  expect(bootFacts(config('MYIP=192.0.2.10\nNETMASK=24'))).toMatchObject({ myip: '192.0.2.10', warnings: [] });
});

test('with no address on any interface the warning says so', async () => {
  const host = await discoverHost(config('MYIP=192.0.2.10\nNETMASK=24'), { procRoute: noRoute, scan: false, interfaces: () => ({}) });
  expect(host.warnings).toEqual([expect.stringMatching(/^MYIP=192\.0\.2\.10 is on no interface of this host \(no interface has an IPv4 address\)/)]);
});

describe('localSubnet', () => {
  test('clears the host bits at every prefix length, as ipaddr.js does', () => {
    for (const myip of ['192.0.2.10', '203.0.113.255', '0.0.0.1', '255.255.255.255']) {
      for (let prefix = 0; prefix <= 32; prefix++) {
        const expected = `${ipaddr.IPv4.networkAddressFromCIDR(`${myip}/${prefix}`).toString()}/${prefix}`;
        expect(localSubnet({ myip, prefix })).toBe(expected);
      }
    }
  });
});

describe('no default route', () => {
  const routes = join(dir, 'route-no-default');
  writeFileSync(routes, [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'v0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    '',
  ].join('\n'));
  // Only a link-local address: what systeminformation's fallback would pick as "the" interface.
  const unaddressedPeer = { lo: [v4('127.0.0.1', 8)], v1: [{ ...v6('fe80::1'), cidr: 'fe80::1/64' }] };

  test('a route table that can be read and has none says so, instead of blaming a guessed interface', async () => {
    await expect(discoverHost(config(''), { procRoute: routes, interfaces: () => unaddressedPeer }))
      .rejects.toThrow(/^no default route; set INTERFACE \(or MYIP and NETMASK\)$/);
  });

  test('the route of the default interface is still found, and INTERFACE still wins', async () => {
    const withDefault = join(dir, 'route-default');
    writeFileSync(withDefault, `${readFileSync(routes, 'utf8')}eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n`);
    expect((await discoverHost(config(''), { procRoute: withDefault, interfaces: () => HOST_INTERFACES })).iface).toBe('eth0');
    expect((await discoverHost(config('INTERFACE=eth0'), { procRoute: routes, interfaces: () => HOST_INTERFACES })).myip).toBe('192.0.2.11');
  });
});
