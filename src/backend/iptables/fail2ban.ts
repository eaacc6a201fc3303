/**
 * fail2ban's actions for the iptables backend, following the seed's advice ("Revised iptables.conf actions"):
 * actionstart/actionstop do nothing; the set or chain is created by tsfirewall and jumped to from the right place,
 * and fail2ban only adds and removes its own entries. fail2ban picks the [Init?family=inet6] values for IPv6
 * addresses, so one action serves both families. Pure, so unit tests pin the exact text.
 */
import { HEADER, setActionText } from '../../bans/conf.js';
import type { Fail2banActions } from '../types.js';

export const ACTION_NAMES = { ipset: 'tsfirewall-ipset', chain: 'tsfirewall-chain' } as const;

/** A no-op stand-in for the IPv6 command when there is no IPv6 set or chain (IPV6=drop/off): nothing to ban into. */
const NO_IPV6 = (tool: string) =>
  `# IPV6 is not "mirror": tsfirewall made no IPv6 ${tool}, so IPv6 bans are no-ops.\n`;
export function ipsetAction(opts: { readonly ipset: string; readonly ipv6: boolean; readonly source?: string }): string {
  return setActionText({
    what: 'fail2ban action: bans are entries in the ipsets tsfirewall owns.', source: opts.source,
    owner: 'tsfirewall creates f2b-<name> / f2b6-<name> before its rules load and destroys them on stop.',
    expiry: 'Each entry carries the ban time, so the kernel expires it even if fail2ban is not running to unban it.',
    ban: '<ipset> -exist add <ipmset> <ip> timeout <ipsettime>',
    prolong: '-exist renews the entry\'s timeout.',
    unban: '<ipset> -exist del <ipmset> <ip>',
    tool: ['ipset', opts.ipset], setVar: 'ipmset', ipv6: opts.ipv6,
  });
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

/** Both actions (a jail uses the one of its ban mode), with the programs of this flavour. */
export function iptablesActions(opts: { readonly ipset: string; readonly iptables: string; readonly ip6tables: string; readonly ipv6: boolean; readonly source?: string }): Fail2banActions {
  return {
    files: new Map([
      [ACTION_NAMES.ipset, ipsetAction({ ipset: opts.ipset, ipv6: opts.ipv6, source: opts.source })],
      [ACTION_NAMES.chain, chainAction({ iptables: opts.iptables, ip6tables: opts.ipv6 ? opts.ip6tables : undefined, source: opts.source })],
    ]),
    action: (j, ipsettime) => (j.kind === 'set'
      ? `${ACTION_NAMES.ipset}[name=${j.banName}, ipsettime=${ipsettime}]`
      : `${ACTION_NAMES.chain}[name=${j.banName}]`),
  };
}
