/**
 * The configs and hosts of the issue-16 golden documents (items 2, 3, 4 and 7), for both backends: a multi-homed
 * host (every address counts, services per interface, an interface trusted whole), a router (port forwards, routes,
 * masquerade), an egress policy with IPv6 closed inbound only, and IPv6 as a first-class family (local subnet,
 * "addressed to me", RFC 4890) on a dual-stack host and on one with IPv6 only.
 */
import { compile } from '../../../src/compile/plan.js';
import type { HostFacts } from '../../../src/discover/host.js';
import type { Plan } from '../../../src/model.js';
import { config } from '../fixtures.js';

/** fw with a second address on eth0, an eth1 towards a LAN behind it, and link-local IPv6. */
export const MULTI_HOST: HostFacts = {
  iface: 'eth0', myip: '192.0.2.10', prefix: 24, myip6: ['2001:db8:1::10'], subnets6: ['2001:db8:1::/64'],
  locals: ['192.0.2.10', '192.0.2.50', '192.0.2.253', '2001:db8:1::10', 'fe80::10'], warnings: [],
};
/** The same host with no IPv4 address at all: MYIP6 and its subnet from the interface. */
export const V6_ONLY_HOST: HostFacts = {
  iface: 'eth0', myip6: ['2001:db8:1::10'], subnets6: ['2001:db8:1::/64'], locals: ['2001:db8:1::10', 'fe80::10'], warnings: [],
};

const lines = (...l: string[]) => l.join('\n');

export const NETWORK_CASES: Readonly<Record<string, () => Plan>> = {
  interfaces: () => compile(config(lines(
    'SERVICES=ssh web', 'SERVICE_SSH_INTERFACES=eth0 eth1', 'SERVICE_WEB_INTERFACES=eth0', 'INTERFACE_wg0_POLICY=accept', 'IPV6=mirror',
  )), MULTI_HOST),
  router: () => compile(config(lines(
    'SERVICES=ssh', 'FORWARD_WEB=tcp:8080->192.0.2.254:80', 'FORWARD_WEB_FROM=198.51.100.0/24 203.0.113.0/24',
    'FORWARD_GAME=udp:27015-27020->192.0.2.254', 'ROUTE_LAN_FROM=eth1', 'ROUTE_LAN_TO=any', 'ROUTE_LAN_PORTS=80 443 53',
    'ROUTE_LAN_PROTO=tcp udp', 'ROUTE_WEB_FROM=any', 'ROUTE_WEB_TO=192.0.2.254 2001:db8:9::/64', 'ROUTE_WEB_PORTS=80',
    'INTERFACE_wg0_POLICY=accept', 'SNAT_INTERFACE=eth0', 'SNAT_TO=masquerade', 'IPV6=mirror',
  )), MULTI_HOST),
  egress: () => compile(config(lines(
    'OUTPUT_POLICY=drop', 'OUTPUT_ALLOW=udp:53@192.0.2.53 tcp:53@192.0.2.53 udp:123 tcp:443@198.51.100.80 icmp udp:67 2001:db8:5::/48',
    'IPV6=drop-inbound',
  )), MULTI_HOST),
  ipv6: () => compile(config(lines('IPV6=mirror', 'ALLOW_PING=yes')), MULTI_HOST),
  'ipv6-only': () => compile(config('IPV6=mirror'), V6_ONLY_HOST),
};

export const networkGolden = (file: string) => new URL(`./golden-network/${file}`, import.meta.url);
