/**
 * The text of fail2ban's configuration as tsfirewall writes it: a jail.d file with one jail per protected service
 * and the two action.d files. Pure, so unit tests pin the exact text.
 *
 * The actions follow the seed's advice ("Revised iptables.conf actions"): actionstart/actionstop do nothing; the
 * chain or set is created by tsfirewall and jumped to from the right place, and fail2ban only adds and removes
 * its own DROP entries. fail2ban picks the [Init?family=inet6] values for IPv6 addresses, so one action serves
 * both families.
 */
import type { Config } from '../config/types.js';
import { localSubnet, type HostFacts } from '../discover/host.js';
import type { JailSpec } from './jails.js';

export type LogSource = { readonly kind: 'journal' } | { readonly kind: 'file'; readonly path: string };

export const ACTION_NAMES = { ipset: 'tsfirewall-ipset', chain: 'tsfirewall-chain' } as const;
export const JAIL_FILE = 'tsfirewall';

/** ipset's largest per-entry timeout; longer bans are stored as permanent and fail2ban removes them itself. */
export const IPSET_MAX_TIMEOUT = 2_147_483;
export const ipsetTime = (bantime: number) => (bantime <= IPSET_MAX_TIMEOUT ? bantime : 0);

const HEADER = (what: string, source?: string) =>
  `# ${what}\n# Written by tsfirewall from ${source ?? 'its built-in defaults'}; \`tsfirewall start\` overwrites it.\n`;

/**
 * ignoreip mirrors the "friends" accepts that precede the ban rules: a ban on such an address could never take
 * effect, so fail2ban should not count it. The local subnet is only in it when TRUST_LOCAL_SUBNET=yes; the host
 * itself and loopback always are.
 */
export function ignoreList(config: Pick<Config, 'trustLocalSubnet' | 'trustedNets'>, host: Pick<HostFacts, 'myip' | 'prefix' | 'myip6'>): string[] {
  const local = config.trustLocalSubnet ? [localSubnet(host)] : [];
  return [...new Set(['127.0.0.1/8', '::1', host.myip, ...host.myip6, ...local, ...config.trustedNets])];
}

export interface JailFileInput {
  readonly jails: readonly JailSpec[];
  readonly ignoreip: readonly string[];
  /** Jails without a source (no filter, no log) are left out: fail2ban would refuse to start with them. */
  readonly logSources: ReadonlyMap<string, LogSource>;
  readonly source?: string;
}

export function jailFile(input: JailFileInput): string {
  const out = [HEADER('fail2ban jails for the services tsfirewall protects.', input.source) +
    '# Settings in jail.local are read after this file and win over it.\n'];
  // The stock jail for the same filter would ban a second time through fail2ban's own iptables action, which
  // inserts a jump into INPUT that tsfirewall's next atomic reload removes. (Debian 12's stock [sshd] also fails
  // outright without rsyslog: it waits for a /var/log/auth.log that never appears.)
  const jails = input.jails.filter((j) => input.logSources.has(j.jail));
  for (const filter of [...new Set(jails.map((j) => j.service.jail.filter))]) {
    out.push(`[${filter}]\n# fail2ban's stock jail for this filter: replaced by the tsfw- jail below.\nenabled = false\n`);
  }
  for (const j of jails) {
    const source = input.logSources.get(j.jail)!;
    const jail = j.service.jail;
    // An escalated ban's length is only known per ban: the set entry takes it from the ban itself.
    const ipsettime = jail.bantimeMax === undefined ? String(ipsetTime(jail.bantime)) : '<bantime>';
    const action = j.mode === 'ipset'
      ? `${ACTION_NAMES.ipset}[name=${j.banName}, ipsettime=${ipsettime}]`
      : `${ACTION_NAMES.chain}[name=${j.banName}]`;
    out.push([
      `[${j.jail}]`,
      `# service ${j.service.name}: bans go to ${Object.values(j.targets).join(' and ')} (BAN_MODE=${j.mode})`,
      'enabled  = true',
      `filter   = ${jail.filter}`,
      `port     = ${j.service.ports.join(',')}`,
      `maxretry = ${jail.maxretry}`,
      `findtime = ${jail.findtime}`,
      `bantime  = ${jail.bantime}`,
      ...(jail.bantimeMax === undefined ? [] : [
        '# repeat offenders: each ban of the same address lasts twice the one before, up to maxtime',
        'bantime.increment = true',
        `bantime.maxtime = ${jail.bantimeMax}`,
      ]),
      `ignoreip = ${input.ignoreip.join(' ')}`,
      ...(source.kind === 'journal'
        ? ['# the service logs to the journal: read it there (there may be no log file at all)', 'backend  = systemd']
        : ['backend  = auto', `logpath  = ${source.path}`]),
      `action   = ${action}`,
      '',
    ].join('\n'));
  }
  return out.join('\n');
}

/** A no-op stand-in for the IPv6 command when there is no IPv6 set or chain (IPV6=drop/off): nothing to ban into. */
const NO_IPV6 = (tool: string) =>
  `# IPV6 is not "mirror": tsfirewall made no IPv6 ${tool}, so IPv6 bans are no-ops.\n`;

export function ipsetAction(opts: { readonly ipset: string; readonly ipv6: boolean; readonly source?: string }): string {
  return `${HEADER('fail2ban action: bans are entries in the ipsets tsfirewall owns.', opts.source)}
[Definition]
# tsfirewall creates f2b-<name> / f2b6-<name> before its rules load and destroys them on stop.
actionstart =
actionstop =
actioncheck =
# Each entry carries the ban time, so the kernel expires it even if fail2ban is not running to unban it.
actionban = <ipset> -exist add <ipmset> <ip> timeout <ipsettime>
# fail2ban lengthens a repeat offender's ban after the fact (bantime.increment): -exist renews the entry's timeout.
actionprolong = %(actionban)s
actionunban = <ipset> -exist del <ipmset> <ip>
# Stopping fail2ban leaves the entries in place (they expire on their own): a restart opens no window.
actionflush = true

[Init]
ipset = ${opts.ipset}
ipsettime = 0
ipmset = f2b-<name>

[Init?family=inet6]
ipmset = f2b6-<name>
${opts.ipv6 ? '' : `${NO_IPV6('set')}ipset = true\n`}`;
}

export function chainAction(opts: { readonly iptables: string; readonly ip6tables?: string; readonly source?: string }): string {
  return `${HEADER('fail2ban action: bans are DROP rules in the fail2ban-<name> chains tsfirewall owns.', opts.source)}
[Definition]
# tsfirewall creates fail2ban-<name> and jumps to it before the service accept and before the ESTABLISHED
# accept; a reload carries the entries over. Nothing to set up or tear down here.
actionstart =
actionstop =
actioncheck =
actionban = <iptables> -w -I fail2ban-<name> 1 -s <ip> -j DROP
actionunban = <iptables> -w -D fail2ban-<name> -s <ip> -j DROP

[Init]
iptables = ${opts.iptables}

[Init?family=inet6]
${opts.ip6tables ? `iptables = ${opts.ip6tables}\n` : `${NO_IPV6('chain')}iptables = true\n`}`;
}
