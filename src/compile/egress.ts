/**
 * OUTPUT_POLICY=drop: what this host may send. Replies always leave first (the SYN-ACK of a new SSH connection is a
 * reply too, as conntrack sees it), so the services and every open session keep working whatever the allow list
 * says; loopback and the ICMPv6 IPv6 needs (RFC 4890, compile/icmpv6.ts) leave too; then OUTPUT_ALLOW, then our
 * drop. The lock-out guard evaluates these rules for each live SSH session's replies (safety/lockout.ts).
 */
import type { EgressAllow } from '../config/network-types.js';
import type { Config } from '../config/types.js';
import type { Family, Match, Rule } from '../model.js';
import { icmpv6Rules } from './icmpv6.js';
import { isFamily } from './input.js';

/** OUTPUT's verdict for what the chain did not accept: the seed's ACCEPT unless the config closes it. */
export const outputPolicy = (config: Pick<Config, 'egress'>): 'ACCEPT' | 'DROP' => (config.egress.policy === 'drop' ? 'DROP' : 'ACCEPT');

/** One allow item's match in one family, or undefined when its destination is the other family's. */
function allowMatch(a: EgressAllow, family: Family): Match | undefined {
  if (a.to && 'cidr' in a.to && !isFamily(family)(a.to.cidr)) return undefined;
  const to: Match = a.to === undefined ? {} : 'iface' in a.to ? { outIface: a.to.iface } : { dst: { cidr: a.to.cidr } };
  const proto: Match = a.proto === undefined ? {}
    : a.proto === 'icmp' ? { proto: family === 'ipv4' ? 'icmp' : 'ipv6-icmp' }
      : { proto: a.proto, ...(a.port ? { dports: [a.port] } : {}) };
  return { ...to, ...proto };
}

/** The OUTPUT chain's rules for one family; none when everything may leave (the seed). */
export function egressRules(config: Pick<Config, 'egress'>, family: Family): Rule[] {
  if (config.egress.policy !== 'drop') return [];
  const out = (group: Rule['group'], match: Match): Rule => ({ chain: 'OUTPUT', group, match, target: { kind: 'ACCEPT' } });
  return [
    out('loopback', { outIface: 'lo' }),
    out('replies', { ctstate: ['ESTABLISHED', 'RELATED'] }),
    ...icmpv6Rules(family, 'OUTPUT'),
    ...config.egress.allow.map((a) => allowMatch(a, family)).filter((m): m is Match => m !== undefined).map((m) => out('egress', m)),
  ];
}
