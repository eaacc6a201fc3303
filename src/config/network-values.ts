/**
 * Value parsers for the routing and egress keys (FORWARD_*, ROUTE_*, OUTPUT_ALLOW, MYIP6...), beside values.ts and
 * in its manner: each returns the parsed value or throws a ValueError saying what was expected, whitelisted by
 * shape so nothing typed here can become other rule syntax.
 */
import { isDottedQuad, parseIPv6, parseNetwork } from '../net/addr.js';
import type { EgressAllow, Endpoint, PortForward } from './network-types.js';
import { quoted } from './quote.js';
import { ValueError, cidr, list, netdevName, port } from './values.js';

const fail = (msg: string): never => { throw new ValueError(msg); };

/** MYIP6: one IPv6 address without a prefix or a zone, in the canonical text the kernel prints. */
export function ipv6Address(raw: string): string {
  const v = raw.trim();
  const net = v.includes('/') || v.includes('%') ? undefined : parseIPv6(v);
  return net ? parseNetwork(v)!.network : fail(`expected an IPv6 address like 2001:db8::10 (no prefix, no zone), got ${quoted(raw)}`);
}

/**
 * Text that is trying to be an address: an interface name never holds only hex digits, dots, colons and slashes
 * with at least one separator, so "192.0.2.010" is a bad address and not an interface called that.
 */
const looksLikeAddress = (v: string) => /^[0-9A-Fa-f.:/]+$/.test(v) && /[.:/]/.test(v);

/** A network (192.0.2.0/24, 2001:db8::/32, a bare address) or an interface name (eth1, wg0, br-lan). */
export function endpoint(raw: string): Endpoint {
  const v = raw.trim();
  if (looksLikeAddress(v)) return { cidr: cidr(v) };
  try {
    return { iface: netdevName(v) };
  } catch {
    return fail(`expected a network like 192.0.2.0/24 or 2001:db8::/32, or an interface name like eth1, got ${quoted(raw)}`);
  }
}

/** "any", or networks and interfaces: an empty result means anywhere. An empty value is refused, not read as any. */
export function endpoints(raw: string): Endpoint[] {
  const items = list(raw);
  if (items.length === 1 && items[0]!.toLowerCase() === 'any') return [];
  if (items.length === 0) return fail('expected networks or interfaces, or "any", got an empty value');
  return items.map(endpoint);
}

/**
 * tcp:8080->198.51.100.20:80, udp:51820->198.51.100.20 (same port), tcp:6000-6010->198.51.100.20 (a range, kept).
 * IPv6 is routed, not translated: a forward's target is IPv4; open an IPv6 host behind this one with ROUTE rules.
 */
export function forwardSpec(raw: string): Omit<PortForward, 'name' | 'from'> {
  const v = raw.trim();
  const expected = `expected PROTO:PORT->ADDRESS[:PORT] like tcp:8080->198.51.100.20:80 (PROTO tcp or udp, ADDRESS IPv4)`;
  const target = v.split('->')[1] ?? '';
  if (target.includes('[') || (target.match(/:/g) ?? []).length > 1) {
    return fail(`${expected}; ${quoted(target)} is not an IPv4 address (IPv6 hosts are reached by routing: ROUTE_<NAME>_* keys)`);
  }
  const m = /^(tcp|udp):([^:>-]+(?:[-:][^:>-]+)?)->([^:]+)(?::([^:]+))?$/i.exec(v);
  if (!m) return fail(`${expected}, got ${quoted(raw)}`);
  const [, proto, portText, addr, toPortText] = m as unknown as [string, string, string, string, string | undefined];
  if (!isDottedQuad(addr)) {
    return fail(`${expected}; ${quoted(addr)} is not an IPv4 address (IPv6 hosts are reached by routing: ROUTE_<NAME>_* keys)`);
  }
  const from = port(portText);
  const to = toPortText === undefined ? undefined : port(toPortText);
  if (to !== undefined && (from.includes(':') || to.includes(':'))) {
    return fail(`a port range is forwarded to the same ports: leave out the target port, got ${quoted(raw)}`);
  }
  return { proto: proto.toLowerCase() as 'tcp' | 'udp', port: from, toAddr: addr, ...(to === undefined ? {} : { toPort: to }) };
}

/**
 * One OUTPUT_ALLOW item: PROTO:PORT (tcp:443, udp:53, udp:6000-6010), icmp, or a destination (network or
 * interface), and PROTO:PORT@DESTINATION or icmp@DESTINATION for both.
 */
export function egressItem(raw: string): EgressAllow {
  const [what, dest, extra] = raw.trim().split('@');
  const expected = 'expected PROTO:PORT (tcp:443, udp:53), icmp, a destination (198.51.100.0/24, eth1), or PROTO:PORT@DESTINATION';
  if (extra !== undefined || what === '' || dest === '') return fail(`${expected}, got ${quoted(raw)}`);
  const to = dest === undefined ? undefined : endpoint(dest);
  const m = /^(tcp|udp):(.+)$/i.exec(what!);
  if (m) return { proto: m[1]!.toLowerCase() as 'tcp' | 'udp', port: port(m[2]!), ...(to ? { to } : {}) };
  if (what!.toLowerCase() === 'icmp') return { proto: 'icmp', ...(to ? { to } : {}) };
  if (to === undefined) return { to: endpoint(what!) };
  return fail(`${expected}, got ${quoted(raw)}`);
}

/** SNAT_TO: an IPv4 address, or "masquerade" (the outbound interface's own address, whatever it is then). */
export function snatTo(raw: string): string {
  const v = raw.trim();
  if (v.toLowerCase() === 'masquerade') return 'masquerade';
  return isDottedQuad(v) ? v : fail(`expected an IPv4 address like 192.0.2.10, or "masquerade", got ${quoted(raw)}`);
}
