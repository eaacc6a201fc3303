/**
 * The addresses an admin types after `ban`/`unban`: exactly one host address, read as src/net/addr.ts reads every
 * address (IPv4 in four-part dotted decimal, also as the tail of IPv6 text; IPv6 without a zone). Anything looser
 * ("10.1", "0x7f.1", "::ffff:010.0.0.1", a CIDR, "fe80::1%eth0") is refused, because the address goes into an ipset
 * entry or an iptables rule and a lenient parser would ban something unintended.
 */
import type ipaddr from 'ipaddr.js';
import { isDottedQuad, parseIPv6 } from '../net/addr.js';
import type { Family } from '../model.js';

export interface BanAddress {
  /** Canonical text: the form ipset and iptables print back, so listings compare equal. */
  readonly ip: string;
  readonly family: Family;
}

/** Returns undefined for anything that is not exactly one usable host address. */
export function parseBanAddress(raw: string): BanAddress | undefined {
  const text = raw.trim();
  if (isDottedQuad(text)) {
    // 0.0.0.0/8 ("this network", ipaddr's "unspecified") and broadcast are not hosts; ipset refuses 0.0.0.0 anyway.
    // The text is already canonical (no leading zeros).
    return text.startsWith('0.') || text === '255.255.255.255' ? undefined : { ip: text, family: 'ipv4' };
  }
  const addr = parseIPv6(text);
  if (!addr) return undefined;
  // A v4-mapped address is the IPv4 host as the kernel sees it on an IPv4 socket: ban it in the IPv4 set.
  if (addr.isIPv4MappedAddress()) return parseBanAddress(addr.toIPv4Address().toString());
  // "::192.0.2.5" (IPv4-compatible, deprecated) is never a packet's source: banning it would ban nothing.
  if (isIPv4Compatible(addr)) return undefined;
  return ['unspecified', 'multicast'].includes(addr.range()) ? undefined : { ip: addr.toString(), family: 'ipv6' };
}

/** Splits addresses by family, refusing the whole list if any one is bad (nothing is half-banned). */
export function parseBanAddresses(raws: readonly string[]): { ok: BanAddress[]; bad: string[] } {
  const ok: BanAddress[] = [];
  const bad: string[] = [];
  const seen = new Set<string>();
  for (const raw of raws) {
    const parsed = parseBanAddress(raw);
    if (!parsed) bad.push(raw);
    else if (!seen.has(parsed.ip)) {
      seen.add(parsed.ip);
      ok.push(parsed);
    }
  }
  return { ok, bad };
}

/** ::a.b.c.d in RFC 4291's deprecated form: the first 96 bits zero, and not :: or ::1. */
function isIPv4Compatible(addr: ipaddr.IPv6): boolean {
  const parts = addr.parts;
  return parts.slice(0, 6).every((p) => p === 0) && (parts[6] !== 0 || parts[7]! > 1);
}
