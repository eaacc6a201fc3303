/**
 * Ban lists of 10k and 100k entries in the two physical forms: `ipset restore` lines (tsfirewall's path) and
 * per-IP DROP rules (fail2ban's iptables action, or the seed's chain). The addresses are the tests' own
 * (test/harness/ban-addresses.ts: 198.18.0.0/15, never sent a packet).
 */
import { banAddress, banAddresses as addresses } from '../../test/harness/ban-addresses.js';

/** What the ipset path feeds `ipset restore -exist`: one add line per ban. */
export const ipsetAdds = (set: string, count: number) => addresses(count).map((ip) => `add ${set} ${ip}\n`).join('');

/** A chain full of bans in one `iptables-restore --noflush` (setup only: this is not fail2ban's way). */
export const chainRestore = (chain: string, count: number) =>
  `*filter\n${addresses(count).map((ip) => `-A ${chain} -s ${ip}/32 -j DROP`).join('\n')}\nCOMMIT\n`;

/** fail2ban's per-IP action: one `iptables -I <chain> 1 -s IP -j DROP` exec per ban. */
export const perIpArgvs = (chain: string, count: number, offset = 0) =>
  Array.from({ length: count }, (_, i) => ['iptables', '-w', '-I', chain, '1', '-s', banAddress(offset + i), '-j', 'DROP']);

/** Entries in an ipset, from `ipset list -t`. */
export function ipsetCount(listTerse: string): number {
  return Number(/Number of entries: (\d+)/.exec(listTerse)?.[1] ?? NaN);
}

/** Ban rules in a chain, from `iptables -S CHAIN` (the first line is the chain's own -N). */
export const chainCount = (listed: string) => listed.split('\n').filter((l) => l.startsWith('-A ')).length;
