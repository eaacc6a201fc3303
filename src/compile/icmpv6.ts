/**
 * The ICMPv6 a host must let in and out for IPv6 to work at all, as RFC 4890 section 4.4 lists it for traffic to
 * and from the firewall itself: the errors (4.4.1, with the codes 4.4.2 adds: all of Destination Unreachable,
 * Packet Too Big, Time Exceeded and Parameter Problem), neighbour discovery and router advertisements, inverse
 * neighbour discovery, SEND's certificate path messages, and multicast listener and multicast router discovery,
 * which the RFC wants from link-local sources only. Departures, on purpose: Echo Request (128) stays ALLOW_PING's,
 * as for IPv4 (the seed answers no ping; echo replies to this host's own pings are replies); Redirect (137, "a
 * policy should be defined") is dropped, so nobody on the link can reroute this host. The kernel itself discards
 * neighbour discovery that arrives with a hop limit other than 255 (RFC 4861), so the rules need not say it.
 */
import type { Family, Rule } from '../model.js';

interface Icmp6Need {
  readonly type: string;
  /** Only from a link-local source (RFC 4890: multicast listener and multicast router discovery). */
  readonly linkLocal?: true;
}

/** RFC 4890 4.4.1 and 4.4.2, by type number, in the RFC's order. */
export const ICMPV6_NEEDED: readonly Icmp6Need[] = [
  // Errors without which connections stall (path MTU discovery above all).
  { type: '1' }, { type: '2' }, { type: '3' }, { type: '4' },
  // Router and neighbour discovery; inverse neighbour discovery.
  { type: '133' }, { type: '134' }, { type: '135' }, { type: '136' }, { type: '141' }, { type: '142' },
  // Multicast listener discovery (MLDv1 query, report, done; MLDv2 report).
  { type: '130', linkLocal: true }, { type: '131', linkLocal: true }, { type: '132', linkLocal: true }, { type: '143', linkLocal: true },
  // SEND certificate path solicitation and advertisement.
  { type: '148' }, { type: '149' },
  // Multicast router discovery.
  { type: '151', linkLocal: true }, { type: '152', linkLocal: true }, { type: '153', linkLocal: true },
];

const LINK_LOCAL = 'fe80::/10';

/**
 * The accepts for one chain (INPUT before the "not addressed to me" drop, since neighbour discovery and router
 * advertisements go to multicast addresses; OUTPUT when OUTPUT_POLICY=drop). Only IPv6 has any. Outbound, a
 * listener report may come from the unspecified address (RFC 3590, during address configuration), so the
 * link-local condition is for what comes in.
 */
export function icmpv6Rules(family: Family, chain: 'INPUT' | 'OUTPUT'): Rule[] {
  if (family !== 'ipv6') return [];
  return ICMPV6_NEEDED.map((need): Rule => ({
    chain,
    group: 'icmp',
    match: { ...(need.linkLocal && chain === 'INPUT' ? { src: { cidr: LINK_LOCAL } } : {}), proto: 'ipv6-icmp', icmpType: need.type },
    target: { kind: 'ACCEPT' },
  }));
}
