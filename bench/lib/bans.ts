/**
 * Ban lists of 10k and 100k entries in the two physical forms: `ipset restore` lines (tsfirewall's path) and
 * per-IP DROP rules (fail2ban's iptables action, or the seed's chain). TEST-NET has only 768 host addresses, so
 * banned entries come from 198.18.0.0/15 (RFC 2544, reserved for benchmarking): they only ever sit in a set or a
 * chain inside a lab namespace, and no packet is sent to or from them.
 */
export const MAX_BANS = 131_000;

export function banAddress(i: number): string {
  if (i < 0 || i >= MAX_BANS) throw new RangeError(`ban index ${i} outside 198.18.0.0/15`);
  const n = i + 1;
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

const addresses = (count: number) => Array.from({ length: count }, (_, i) => banAddress(i));

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
