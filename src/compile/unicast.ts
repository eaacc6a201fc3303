/**
 * The seed's "not addressed to me" drop (anti-broad/multicast), for every address this host has. The seed's
 * `! -d MYIP -j DROP` knows one address, so traffic to a second address (an alias, another interface's, a VPN's)
 * was dropped too. One address keeps the seed's rule; several need a chain, since a rule can negate only one
 * network: each of our addresses returns from it, and whatever is left is dropped.
 */
import type { Rule } from '../model.js';

/** The chain holding the per-address returns; ours by its prefix on iptables, a regular chain on nftables. */
export const UNICAST_CHAIN = 'tsfw-unicast';

/** `selves`: one family's addresses of the host, "addr/32" or "addr/128"; none (at boot) gives no rule. */
export function unicastRules(selves: readonly string[]): Rule[] {
  if (selves.length === 0) return [];
  if (selves.length === 1) {
    return [{ chain: 'INPUT', group: 'unicast', match: { dst: { cidr: selves[0]!, negate: true } }, target: { kind: 'DROP' } }];
  }
  return [
    { chain: 'INPUT', group: 'unicast', match: {}, target: { kind: 'jump', chain: UNICAST_CHAIN } },
    ...selves.map((cidr): Rule => ({ chain: UNICAST_CHAIN, group: 'unicast', match: { dst: { cidr } }, target: { kind: 'RETURN' } })),
    { chain: UNICAST_CHAIN, group: 'unicast', match: {}, target: { kind: 'DROP' } },
  ];
}
