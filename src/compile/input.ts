/**
 * The INPUT chain, in the seed's order of trust but with the anti-spoofing fix: spoofed sources are dropped
 * before any "trust this source" accept, because in the seed the trusted-subnet accept (which contains MYIP)
 * comes first and the "source is MYIP" drop can never match. Ban lookups sit before the replies accept so a
 * banned host cannot keep an established session alive.
 */
import type { Config, ServiceConfig } from '../config/types.js';
import type { Family, Match, Rule, Target } from '../model.js';
import { blocklistRules } from './blocklists.js';
import { icmpv6Rules } from './icmpv6.js';
import { bannedServices } from './recidive.js';
import { unicastRules } from './unicast.js';

export interface FamilyFacts {
  readonly family: Family;
  /** Our own addresses in this family, each "addr/prefix-of-host" (/32 or /128). */
  readonly selves: readonly string[];
  /** The local subnet, for TRUST_LOCAL_SUBNET. */
  readonly localNets: readonly string[];
  /** Every address of the host in this family ("addr/32", "addr/128"): what "addressed to me" means. */
  readonly locals: readonly string[];
  readonly loopbackNet: string;
  /** Where bans live: a chain name per service (chain mode) or a set name (ipset mode). */
  readonly banTarget: (service: ServiceConfig) => { chain: string } | { set: string };
}

const ACCEPT: Target = { kind: 'ACCEPT' };
const DROP: Target = { kind: 'DROP' };
const ANY: Readonly<Record<Family, string>> = { ipv4: '0.0.0.0/0', ipv6: '::/0' };

export const isFamily = (family: Family) => (cidr: string) => cidr.includes(':') === (family === 'ipv6');

export function inputRules(config: Config, f: FamilyFacts): Rule[] {
  const rules: Rule[] = [];
  const add = (group: Rule['group'], match: Match, target: Target) => rules.push({ chain: 'INPUT', group, match, target });
  const mine = isFamily(f.family);

  add('loopback', { inIface: 'lo' }, ACCEPT);
  if (config.antiSpoofing) {
    for (const self of f.selves) add('antispoof', { src: { cidr: self } }, DROP);
    add('antispoof', { src: { cidr: f.loopbackNet } }, DROP);
  }
  const friends = [...(config.trustLocalSubnet ? f.localNets : []), ...config.trustedNets.filter(mine)];
  for (const net of new Set(friends)) add('friends', { src: { cidr: net } }, ACCEPT);
  for (const i of trustedInterfaces(config)) add('interfaces', { inIface: i }, ACCEPT);
  // Neighbour discovery and router advertisements go to multicast addresses: before "not addressed to me".
  rules.push(...icmpv6Rules(f.family, 'INPUT'));
  if (config.dropNotForMe) rules.push(...unicastRules(f.locals));
  rules.push(...blocklistRules(config, f.family));
  for (const service of bannedServices(config)) {
    const target = f.banTarget(service);
    const ban = (match: Match, to: Target) => rules.push({ chain: 'INPUT', group: 'bans', match, target: to, service: service.name });
    // BAN_SCOPE=all (and the recidive jail): one lookup for every port; otherwise one per protocol and port group.
    const scopes: Match[] = service.banScope === 'all' ? [{}]
      : service.protos.flatMap((proto) => portGroups(service.ports).map((dports) => ({ proto, dports })));
    for (const scope of scopes) {
      if ('chain' in target) ban(scope, { kind: 'jump', chain: target.chain });
      else ban({ ...scope, srcSet: target.set }, DROP);
    }
  }
  add('replies', { ctstate: ['ESTABLISHED', 'RELATED'] }, ACCEPT);
  if (config.allowPing) {
    const proto = f.family === 'ipv4' ? 'icmp' : 'ipv6-icmp';
    add('icmp', { proto, icmpType: f.family === 'ipv4' ? 'echo-request' : '128' }, ACCEPT);
  }
  for (const service of config.services) rules.push(...serviceRules(service, f.family));
  rules.push(...dropLogRules(config));
  return rules;
}

/** INTERFACE_<IF>_POLICY=accept: what arrives on these is trusted whole, like a friends net (FORWARD too). */
export const trustedInterfaces = (config: Pick<Config, 'interfaces'>) =>
  config.interfaces.filter((i) => i.policy === 'accept').map((i) => i.iface);

/**
 * LOG_DROPPED's rule, or none: last in INPUT, so it sees exactly what the DROP policy is about to take (ufw's
 * "[UFW BLOCK]"). The IPv6 drop-all ruleset (plan.ts) ends with it too.
 */
export function dropLogRules(config: Pick<Config, 'logDropped'>): Rule[] {
  if (!config.logDropped) return [];
  return [{ chain: 'INPUT', group: 'dropped', match: { limit: config.logDropped }, target: { kind: 'LOG', prefix: 'tsfw drop:' } }];
}

/** A service's rules, once per interface it is limited to (SERVICE_<NAME>_INTERFACES), or once for all. */
function serviceRules(service: ServiceConfig, family: Family): Rule[] {
  const ifaces = service.interfaces.length === 0 ? [undefined] : service.interfaces;
  return ifaces.flatMap((inIface) => serviceRulesOn(service, family, inIface));
}

function serviceRulesOn(service: ServiceConfig, family: Family, inIface: string | undefined): Rule[] {
  const sources = service.from.length === 0 ? [ANY[family]] : service.from.filter(isFamily(family));
  const rules: Rule[] = [];
  for (const proto of service.protos) {
    for (const dports of portGroups(service.ports)) {
      for (const source of sources) {
        const base: Match = { ...(inIface ? { inIface } : {}), proto, dports, ...(source === ANY[family] ? {} : { src: { cidr: source } }) };
        const add = (match: Match, target: Target) => rules.push({ chain: 'INPUT', group: 'services', match, target, service: service.name });
        if (service.logPrefix) add({ ...base, ctstate: ['NEW'] }, { kind: 'LOG', prefix: service.logPrefix });
        const limit = service.rateLimit;
        add(limit ? { ...base, rateLimit: { name: limit.name, hits: limit.hitcount, seconds: limit.seconds } } : base, ACCEPT);
      }
    }
  }
  return rules;
}

/** multiport takes at most 15 ports per rule, a range counting as two. */
export function portGroups(ports: readonly string[]): string[][] {
  const groups: string[][] = [];
  let current: string[] = [];
  let weight = 0;
  for (const port of ports) {
    const w = port.includes(':') ? 2 : 1;
    if (weight + w > 15) {
      groups.push(current);
      current = [];
      weight = 0;
    }
    current.push(port);
    weight += w;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
