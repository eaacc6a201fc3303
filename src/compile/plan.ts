/**
 * Config + host facts -> Plan: the whole of what `start` must load, as data. Pure: no I/O, no clock, so the
 * same inputs always give the same ruleset and golden files can pin it down.
 */
import type { Config, ServiceConfig } from '../config/types.js';
import { isBootHost, localSubnet, type BootHost, type HostFacts } from '../discover/host.js';
import { BOOT_CHAIN, type Chain, type IpsetSpec, type Plan, type Rule, type Ruleset, type Table } from '../model.js';
import { egressRules, outputPolicy } from './egress.js';
import { forwardPolicy, forwardRules, forwardWarnings, natRules } from './forward.js';
import { icmpv6Rules } from './icmpv6.js';
import { dropLogRules, inputRules, isFamily, portGroups, type FamilyFacts } from './input.js';
import { findShadowed } from './shadow.js';
import { withSnippets } from './snippets.js';
import { blocklistSets } from './blocklists.js';
import { bannedServices } from './recidive.js';

/** Ban sets are sized well past the 100k entries a busy host can collect. */
export const BAN_SET_MAXELEM = 262_144;

export const banChainName = (service: ServiceConfig) => `fail2ban-${service.bans}`;
export const banSetName = (service: ServiceConfig, family: 'ipv4' | 'ipv6') =>
  `${family === 'ipv4' ? 'f2b-' : 'f2b6-'}${service.bans}`;

/**
 * The ban sets ipset mode uses for this config, whatever BAN_MODE is now: stop removes them even after a switch to
 * chain mode. IPv6 sets exist only when IPv6 rules mirror IPv4.
 */
export function banSets(config: Config): IpsetSpec[] {
  const families = config.ipv6 === 'mirror' ? (['ipv4', 'ipv6'] as const) : (['ipv4'] as const);
  return bannedServices(config).flatMap((s) => families.map((f) => banSetSpec(banSetName(s, f), f)));
}

/** What every ban set is; the ban batches need it too, to repeat the set's create line (render/ipset.ts). */
export const banSetSpec = (name: string, family: 'ipv4' | 'ipv6'): IpsetSpec =>
  ({ name, family: family === 'ipv4' ? 'inet' : 'inet6', type: 'hash:ip', maxelem: BAN_SET_MAXELEM });

const BUILTIN_FILTER = ['INPUT', 'FORWARD', 'OUTPUT'] as const;
type Policies = Record<(typeof BUILTIN_FILTER)[number], 'ACCEPT' | 'DROP'>;

/**
 * A BootHost (no address known yet) gives the boot-time ruleset: every rule but the address-bound ones (MYIP's
 * anti-spoofing, the local subnet, "not addressed to me", SNAT to MYIP, port forwards), marked by BOOT_CHAIN.
 */
export function compile(config: Config, host: HostFacts | BootHost): Plan {
  const banned = bannedServices(config);
  // 'auto' is settled by the caller; treat an unsettled one as the seed's chain, which needs no extra program.
  const chainMode = config.banMode !== 'ipset';
  const banChains: Chain[] = chainMode ? banned.map((s) => ({ name: banChainName(s) })) : [];
  const addressed = isBootHost(host) ? undefined : host;
  const bootMarker: Chain[] = addressed ? [] : [{ name: BOOT_CHAIN }];
  const myip = addressed?.myip;
  const prefix = addressed?.prefix;
  // Every address of the host is "me"; with only the config's addresses known, those are.
  const locals = addressed?.locals ?? (addressed ? [...(myip ? [myip] : []), ...addressed.myip6] : []);

  const v4: FamilyFacts = {
    family: 'ipv4',
    selves: myip ? [`${myip}/32`] : [],
    localNets: myip && prefix !== undefined ? [localSubnet({ myip, prefix })] : [],
    locals: locals.filter(isFamily('ipv4')).map((a) => `${a}/32`),
    loopbackNet: '127.0.0.0/8',
    banTarget: (s) => (chainMode ? { chain: banChainName(s) } : { set: banSetName(s, 'ipv4') }),
  };
  const filter4 = [...inputRules(config, v4), ...forwardRules(config, 'ipv4'), ...egressRules(config, 'ipv4')];
  const rulesets: Ruleset[] = [{
    family: 'ipv4',
    tables: [
      filterTable({ INPUT: 'DROP', FORWARD: forwardPolicy(config), OUTPUT: outputPolicy(config) }, [...banChains, ...bootMarker], filter4),
      ...natTable(natRules(config, v4.locals, myip)),
      ...helperTable(config),
    ],
  }];
  const v6: FamilyFacts = {
    family: 'ipv6',
    selves: (addressed?.myip6 ?? []).map((a) => `${a}/128`),
    localNets: addressed?.subnets6 ?? [],
    locals: locals.filter(isFamily('ipv6')).map((a) => `${a}/128`),
    loopbackNet: '::1/128',
    banTarget: (s) => (chainMode ? { chain: banChainName(s) } : { set: banSetName(s, 'ipv6') }),
  };
  const ipv6 = IPV6_RULESETS[config.ipv6](config, v6, banChains);
  if (ipv6) rulesets.push(ipv6);

  const ipsets = [...(chainMode ? [] : banSets(config)), ...blocklistSets(config)];
  const snippets = withSnippets(rulesets, config);

  const warnings = [
    ...(addressed?.warnings ?? []),
    ...(config.snat && !config.snat.to && !config.snat.masquerade && !myip
      ? [addressed ? 'SNAT_INTERFACE: this host has no IPv4 address for SNAT to MYIP; set SNAT_TO (an address, or masquerade)'
        : `SNAT_INTERFACE: SNAT to MYIP waits for the address (tsfirewall start); set SNAT_TO to have it at boot`] : []),
    ...forwardWarnings(config, addressed !== undefined, v4.locals.length, addressed?.ipForward),
    ...snippets.warnings,
    ...snippets.rulesets.flatMap((r) => r.tables.flatMap((t) => findShadowed(t.rules).map((s) => `${r.family} ${t.name}: ${s}`))),
    ...config.trustedNets.filter(isFamily('ipv6')).filter(() => config.ipv6 !== 'mirror')
      .map((n) => `TRUSTED_NETS: ${n} is IPv6 but IPV6=${config.ipv6}; it is not used`),
  ];
  return { rulesets: snippets.rulesets, ipsets, banChains: banChains.map((c) => c.name), modules: config.modules, warnings };
}

/**
 * The IPv6 ruleset per IPV6 setting. drop is the seed's (only loopback, in and out); drop-inbound closes what comes
 * in and what is routed but lets this host's own IPv6 out, with the replies and the ICMPv6 it needs back in;
 * mirror gives IPv6 IPv4's rules; off leaves IPv6 alone.
 */
const IPV6_RULESETS: Readonly<Record<Config['ipv6'], (config: Config, v6: FamilyFacts, banChains: Chain[]) => Ruleset | undefined>> = {
  off: () => undefined,
  drop: (config) => {
    const lo: Rule[] = [
      { chain: 'INPUT', group: 'loopback', match: { inIface: 'lo' }, target: { kind: 'ACCEPT' } },
      { chain: 'OUTPUT', group: 'loopback', match: { outIface: 'lo' }, target: { kind: 'ACCEPT' } },
      ...dropLogRules(config),
    ];
    return { family: 'ipv6', tables: [filterTable({ INPUT: 'DROP', FORWARD: 'DROP', OUTPUT: 'DROP' }, [], lo)] };
  },
  'drop-inbound': (config) => {
    const input: Rule[] = [
      { chain: 'INPUT', group: 'loopback', match: { inIface: 'lo' }, target: { kind: 'ACCEPT' } },
      ...icmpv6Rules('ipv6', 'INPUT'),
      { chain: 'INPUT', group: 'replies', match: { ctstate: ['ESTABLISHED', 'RELATED'] }, target: { kind: 'ACCEPT' } },
      ...dropLogRules(config),
    ];
    const rules = [...input, ...egressRules(config, 'ipv6')];
    return { family: 'ipv6', tables: [filterTable({ INPUT: 'DROP', FORWARD: 'DROP', OUTPUT: outputPolicy(config) }, [], rules)] };
  },
  mirror: (config, v6, banChains) => {
    const rules = [...inputRules(config, v6), ...forwardRules(config, 'ipv6'), ...egressRules(config, 'ipv6')];
    return {
      family: 'ipv6',
      tables: [filterTable({ INPUT: 'DROP', FORWARD: forwardPolicy(config), OUTPUT: outputPolicy(config) }, banChains, rules), ...helperTable(config)],
    };
  },
};

/** The filter table: the built-ins with their policies, the user chains given, and any other chain the rules use. */
function filterTable(policies: Policies, userChains: Chain[], rules: Rule[]): Table {
  const declared = new Set<string>([...BUILTIN_FILTER, ...userChains.map((c) => c.name)]);
  const used = [...new Set(rules.map((r) => r.chain))].filter((c) => !declared.has(c)).map((name): Chain => ({ name }));
  return {
    name: 'filter',
    chains: [...BUILTIN_FILTER.map((name) => ({ name, policy: policies[name] })), ...userChains, ...used],
    rules,
  };
}

function natTable(rules: Rule[]): Table[] {
  if (rules.length === 0) return [];
  return [{
    name: 'nat',
    chains: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'].map((name) => ({ name, policy: 'ACCEPT' as const })),
    rules,
  }];
}

/**
 * Since Linux 4.7 a loaded helper module (nf_conntrack_ftp) no longer attaches itself to its port: without a CT
 * rule it never reads the control channel, and the seed's ESTABLISHED,RELATED accept lets no FTP data in.
 */
function helperTable(config: Config): Table[] {
  const rules: Rule[] = config.services.filter((s) => s.helper !== undefined && s.protos.includes('tcp'))
    .flatMap((s) => portGroups(s.ports).map((dports): Rule => ({
      chain: 'PREROUTING', group: 'helpers', match: { proto: 'tcp', dports }, target: { kind: 'CT', helper: s.helper! }, service: s.name,
    })));
  if (rules.length === 0) return [];
  return [{ name: 'raw', chains: ['PREROUTING', 'OUTPUT'].map((name) => ({ name, policy: 'ACCEPT' as const })), rules }];
}
