/**
 * The routing, interface, egress and IPv6 keys (issue 16 items 2, 3, 4, 7): what each reads as, and the refusals,
 * each naming key and line.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { KEY_FAMILIES } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/errors.js';

const refused = (text: string): string => {
  try {
    parseConfig(text, 'x.conf');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('accepted');
};

describe('port forwards', () => {
  test('FORWARD_<NAME> with its regions, in the order of the file', () => {
    const { config } = parseConfig('FORWARD_WEB=tcp:8080->198.51.100.20:80\nFORWARD_WEB_FROM=203.0.113.0/24\nFORWARD_VPN=udp:51820->198.51.100.21\nFORWARD_X11=tcp:6000-6010->198.51.100.22\n');
    expect(config.forwards).toEqual([
      { name: 'WEB', proto: 'tcp', port: '8080', toAddr: '198.51.100.20', toPort: '80', from: ['203.0.113.0/24'] },
      { name: 'VPN', proto: 'udp', port: '51820', toAddr: '198.51.100.21', from: [] },
      { name: 'X11', proto: 'tcp', port: '6000:6010', toAddr: '198.51.100.22', from: [] },
    ]);
  });

  test.each([
    ['FORWARD_WEB=tcp:8080->198.51.100.020:80', /line 1: FORWARD_WEB: .*not an IPv4 address/],
    ['FORWARD_WEB=tcp:8080->[2001:db8::1]:80', /FORWARD_WEB: expected PROTO:PORT->ADDRESS.*not an IPv4 address \(IPv6 hosts are reached by routing/],
    ['FORWARD_WEB=sctp:8080->198.51.100.20', /FORWARD_WEB: expected PROTO:PORT->ADDRESS/],
    ['FORWARD_WEB=tcp:6000-6010->198.51.100.20:80', /FORWARD_WEB: a port range is forwarded to the same ports/],
    ['FORWARD_WEB=tcp:99999->198.51.100.20', /FORWARD_WEB: expected a port 1-65535/],
    ['FORWARD_WEB_FROM=203.0.113.0/24', /line 1: FORWARD_WEB_FROM: is set, but FORWARD_WEB .* is not/],
    ['FORWARD_A=tcp:80->198.51.100.20\nFORWARD_B=tcp:http->198.51.100.21', /line 2: FORWARD_B: forwards tcp 80, as FORWARD_A already does/],
  ])('%s is refused', (text, message) => {
    expect(refused(text)).toMatch(message);
  });
});

describe('routes', () => {
  test('ends are networks or interfaces; ports default to tcp', () => {
    const { config } = parseConfig('ROUTE_WEB_FROM=any\nROUTE_WEB_TO=192.0.2.254 eth1\nROUTE_WEB_PORTS=80 443\nROUTE_OUT_FROM=eth1\nROUTE_OUT_TO=any\n');
    expect(config.routes).toEqual([
      { name: 'WEB', from: [], to: [{ cidr: '192.0.2.254/32' }, { iface: 'eth1' }], protos: ['tcp'], ports: ['80', '443'] },
      { name: 'OUT', from: [{ iface: 'eth1' }], to: [], protos: [], ports: [] },
    ]);
  });

  test.each([
    ['ROUTE_WEB_FROM=any', /line 1: ROUTE_WEB_FROM: a route needs both ROUTE_WEB_FROM and ROUTE_WEB_TO .* ROUTE_WEB_TO missing/],
    ['ROUTE_WEB_FROM=any\nROUTE_WEB_TO=192.0.2.300', /line 2: ROUTE_WEB_TO: expected an IP address or network/],
    ['ROUTE_WEB_FROM=\nROUTE_WEB_TO=any', /line 1: ROUTE_WEB_FROM: expected networks or interfaces, or "any", got an empty value/],
    ['ROUTE_WEB_FROM=any\nROUTE_WEB_TO=eth0:1', /ROUTE_WEB_TO: expected a network like .* or an interface name/],
  ])('%s is refused', (text, message) => {
    expect(refused(text)).toMatch(message);
  });

  test('a misspelt field is an unknown key with a suggestion', () => {
    const { warnings } = parseConfig('ROUTE_WEB_FROM=any\nROUTE_WEB_TO=any\nROUTE_WEB_PORT=80\n', 'x.conf');
    expect(warnings).toEqual(['x.conf:3: unknown key ROUTE_WEB_PORT; ignored (did you mean ROUTE_WEB_PORTS?)']);
  });
});

describe('interfaces', () => {
  test('INTERFACE_<IF>_POLICY keeps the device name as written; SERVICE_<NAME>_INTERFACES limits a service', () => {
    const { config } = parseConfig('INTERFACE_wg0_POLICY=accept\nINTERFACE_br-lan_POLICY=filter\nSERVICE_SSH_INTERFACES=eth0, eth1\n');
    expect(config.interfaces).toEqual([{ iface: 'wg0', policy: 'accept' }, { iface: 'br-lan', policy: 'filter' }]);
    expect(config.services.find((s) => s.name === 'ssh')!.interfaces).toEqual(['eth0', 'eth1']);
    expect(config.services.find((s) => s.name === 'web')!.interfaces).toEqual([]);
  });

  test.each([
    ['INTERFACE_wg0_POLICY=trust', /line 1: INTERFACE_wg0_POLICY: expected one of accept, filter/],
    ['INTERFACE_averyveryverylongname_POLICY=accept', /line 1: INTERFACE_averyveryverylongname_POLICY: names interface "averyveryverylongname": expected an interface name/],
    ['SERVICE_SSH_INTERFACES=eth0:1', /SERVICE_SSH_INTERFACES: expected a network device name/],
  ])('%s is refused', (text, message) => {
    expect(refused(text)).toMatch(message);
  });
});

describe('egress', () => {
  test('OUTPUT_ALLOW items: ports, icmp, destinations, and both', () => {
    const { config, warnings } = parseConfig('OUTPUT_POLICY=drop\nOUTPUT_ALLOW=udp:53 tcp:443@198.51.100.0/24 icmp udp:123@eth1 2001:db8::/32 wg0\nIPV6=mirror\n');
    expect(warnings).toEqual([]);
    expect(config.egress).toEqual({
      policy: 'drop',
      allow: [
        { proto: 'udp', port: '53' }, { proto: 'tcp', port: '443', to: { cidr: '198.51.100.0/24' } }, { proto: 'icmp' },
        { proto: 'udp', port: '123', to: { iface: 'eth1' } }, { to: { cidr: '2001:db8::/32' } }, { to: { iface: 'wg0' } },
      ],
    });
  });

  test('the default lets everything out, and an allow list without OUTPUT_POLICY=drop is warned about', () => {
    expect(parseConfig('').config.egress).toEqual({ policy: 'accept', allow: [] });
    expect(parseConfig('OUTPUT_ALLOW=udp:53\n', 'x.conf').warnings).toEqual([
      'x.conf:1: OUTPUT_ALLOW is set but OUTPUT_POLICY=accept lets everything out; it is not used (set OUTPUT_POLICY=drop)',
    ]);
  });

  test.each([
    ['OUTPUT_ALLOW=udp:53@', /OUTPUT_ALLOW: expected PROTO:PORT/],
    ['OUTPUT_ALLOW=tcp:443@1.2.3.4@eth0', /OUTPUT_ALLOW: expected PROTO:PORT/],
    ['OUTPUT_ALLOW=tcp:0', /OUTPUT_ALLOW: expected a port 1-65535/],
    ['OUTPUT_POLICY=reject', /OUTPUT_POLICY: expected one of accept, drop/],
  ])('%s is refused', (text, message) => {
    expect(refused(text)).toMatch(message);
  });
});

describe('IPv6 and source NAT', () => {
  test('IPV6=drop-inbound, MYIP6/NETMASK6, and SNAT_TO=masquerade', () => {
    const { config } = parseConfig('IPV6=drop-inbound\nMYIP6=2001:DB8:0::10\nNETMASK6=64\nSNAT_INTERFACE=eth1\nSNAT_TO=masquerade\n');
    expect(config.ipv6).toBe('drop-inbound');
    expect([config.myip6, config.netmask6]).toEqual(['2001:db8::10', 64]);
    expect(config.snat).toEqual({ iface: 'eth1', masquerade: true });
  });

  test.each([
    ['MYIP6=2001:db8::10', /line 1: MYIP6: is set, so NETMASK6 must be set too/],
    ['MYIP6=2001:db8::10/64\nNETMASK6=64', /MYIP6: expected an IPv6 address/],
    ['MYIP6=192.0.2.10\nNETMASK6=64', /MYIP6: expected an IPv6 address/],
    ['MYIP6=2001:db8::10\nNETMASK6=129', /NETMASK6: expected a whole number from 1 to 128/],
    ['SNAT_INTERFACE=eth1\nSNAT_TO=masq', /SNAT_TO: expected an IPv4 address .* or "masquerade"/],
  ])('%s is refused', (text, message) => {
    expect(refused(text)).toMatch(message);
  });
});

test('the shipped example documents one key of every field of every key family', () => {
  const example = readFileSync(new URL('../../../packaging/tsfirewall.default', import.meta.url), 'utf8');
  for (const family of Object.values(KEY_FAMILIES)) {
    for (const field of Object.keys(family.fields)) expect(example).toMatch(new RegExp(`^#${family.example(field)}=`, 'm'));
  }
});
