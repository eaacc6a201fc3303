/**
 * The network blocklists in the plan: one interval set per list and family (ipset hash:net, nft interval sets),
 * and one drop per set in INPUT. The drop comes after the trusted nets and "not addressed to me" (a friend is never
 * blocked, as it is never banned) and before the bans and the replies accept, so a listed network cannot keep a
 * session open either. The sets' content is not part of the plan: it changes with every refresh, which must not
 * make a ruleset "pending" (blocklists/load.ts fills them).
 */
import type { Config } from '../config/types.js';
import type { Family, IpsetSpec, Rule } from '../model.js';

export const blocklistSetName = (name: string, family: Family) => `${family === 'ipv4' ? 'bl-' : 'bl6-'}${name}`;

/** The families a list is loaded in: IPv6 only where the IPv6 ruleset mirrors IPv4's. */
export const blocklistFamilies = (config: Pick<Config, 'ipv6'>): Family[] => (config.ipv6 === 'mirror' ? ['ipv4', 'ipv6'] : ['ipv4']);

export function blocklistSets(config: Pick<Config, 'blocklists' | 'blocklistLimits' | 'ipv6'>): IpsetSpec[] {
  return config.blocklists.flatMap((list) => blocklistFamilies(config).map((family): IpsetSpec => ({
    name: blocklistSetName(list.name, family), family: family === 'ipv4' ? 'inet' : 'inet6', type: 'hash:net', maxelem: config.blocklistLimits.maxEntries,
  })));
}

export function blocklistRules(config: Pick<Config, 'blocklists'>, family: Family): Rule[] {
  return config.blocklists.map((list) => ({
    chain: 'INPUT', group: 'blocklist', match: { srcSet: blocklistSetName(list.name, family) }, target: { kind: 'DROP' },
  }));
}
