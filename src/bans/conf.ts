/**
 * The text of fail2ban's jail file as tsfirewall writes it: one jail per protected service, each naming the action
 * its backend provides (the backend writes the action.d files: fail2ban.ts of each backend). Pure, so unit tests pin
 * the exact text.
 */
import type { Config } from '../config/types.js';
import { localSubnet, type HostFacts } from '../discover/host.js';
import type { JailSpec } from './jails.js';

export type LogSource = { readonly kind: 'journal' } | { readonly kind: 'file'; readonly path: string };

export const JAIL_FILE = 'tsfirewall';

/** ipset's largest per-entry timeout; longer bans are stored as permanent and fail2ban removes them itself. */
export const IPSET_MAX_TIMEOUT = 2_147_483;
export const ipsetTime = (bantime: number) => (bantime <= IPSET_MAX_TIMEOUT ? bantime : 0);

export const HEADER = (what: string, source?: string) =>
  `# ${what}\n# Written by tsfirewall from ${source ?? 'its built-in defaults'}; \`tsfirewall start\` overwrites it.\n`;

/**
 * ignoreip mirrors the "friends" accepts that precede the ban rules: a ban on such an address could never take
 * effect, so fail2ban should not count it. The local subnet is only in it when TRUST_LOCAL_SUBNET=yes; the host
 * itself and loopback always are.
 */
export function ignoreList(
  config: Pick<Config, 'trustLocalSubnet' | 'trustedNets'> & Partial<Pick<Config, 'ipv6'>>,
  host: Pick<HostFacts, 'myip' | 'prefix' | 'myip6' | 'subnets6'>,
): string[] {
  const { myip, prefix } = host;
  const local4 = config.trustLocalSubnet && myip !== undefined && prefix !== undefined ? [localSubnet({ myip, prefix })] : [];
  // IPv6's local subnets are trusted only where IPv6 mirrors IPv4's rules (compile/plan.ts).
  const local6 = config.trustLocalSubnet && config.ipv6 === 'mirror' ? host.subnets6 ?? [] : [];
  return [...new Set(['127.0.0.1/8', '::1', ...(myip === undefined ? [] : [myip]), ...host.myip6, ...local4, ...local6, ...config.trustedNets])];
}

/**
 * Filter options a jail needs beyond its name: the stock recidive filter skips the bans of the jail named in
 * `_jailname` (its own), which is `recidive` unless told that ours is tsfw-recidive.
 */
const FILTER_OPTIONS: Readonly<Record<string, (jail: string) => string>> = {
  recidive: (jail) => `[_jailname=${jail}]`,
};

/** fail2ban's `port`: our actions ban by set or chain, but fail2ban wants one, and an all-ports ban has no list. */
const portLine = (j: JailSpec) => (j.service.banScope === 'all' || j.service.ports.length === 0 ? '0:65535' : j.service.ports.join(','));

export interface JailFileInput {
  readonly jails: readonly JailSpec[];
  /** The jail's `action =` line, from the backend (its ban name, and how long a set entry lasts). */
  readonly action: (jail: JailSpec, ipsettime: string) => string;
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
    const action = input.action(j, ipsettime);
    out.push([
      `[${j.jail}]`,
      `# service ${j.service.name}: bans go to ${Object.values(j.targets).join(' and ')} (BAN_MODE=${j.mode})` +
        (j.service.banScope === 'all' ? ', dropped on every port' : ''),
      'enabled  = true',
      `filter   = ${jail.filter}${FILTER_OPTIONS[jail.filter]?.(j.jail) ?? ''}`,
      `port     = ${portLine(j)}`,
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

/** The parts of a set-editing action that differ between tools: everything else is one template. */
export interface SetActionParts {
  readonly what: string;
  readonly source?: string;
  /** Why nothing is set up at start: who makes the sets, and when they go. */
  readonly owner: string;
  readonly ban: string;
  /** Why an entry expires by itself, as a comment (one or two lines). */
  readonly expiry: string;
  /** How a repeat offender's lengthened ban reaches the entry, as a comment. */
  readonly prolong: string;
  readonly unban: string;
  /** The tool's [Init] variable and its path, then the set variable's name. */
  readonly tool: readonly [string, string];
  readonly setVar: string;
  readonly ipv6: boolean;
}

/**
 * A fail2ban action whose bans are entries of sets tsfirewall owns, for any tool: start, stop and check do nothing
 * (tsfirewall makes the sets before its rules load, and a restart of fail2ban must not open a window), each entry
 * carries the ban's time, and without an IPv6 set the IPv6 command is a no-op.
 */
export function setActionText(a: SetActionParts): string {
  const [toolVar, toolPath] = a.tool;
  return `${HEADER(a.what, a.source)}
[Definition]
# ${a.owner}
actionstart =
actionstop =
actioncheck =
${a.expiry.split('\n').map((l) => `# ${l}`).join('\n')}
actionban = ${a.ban}
# fail2ban lengthens a repeat offender's ban after the fact (bantime.increment): ${a.prolong}
actionprolong = %(actionban)s
actionunban = ${a.unban}
# Stopping fail2ban leaves the ${a.setVar === 'ipmset' ? 'entries' : 'elements'} in place (they expire on their own): a restart opens no window.
actionflush = true

[Init]
${toolVar} = ${toolPath}
ipsettime = 0
${a.setVar} = f2b-<name>

[Init?family=inet6]
${a.setVar} = f2b6-<name>
${a.ipv6 ? '' : `# IPV6 is not "mirror": tsfirewall made no IPv6 set, so IPv6 bans are no-ops.\n${toolVar} = true\n`}`;
}
