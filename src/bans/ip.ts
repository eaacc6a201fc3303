/**
 * The addresses an admin types after `ban`/`unban`: exactly one host address, read as src/net/addr.ts reads every
 * address (IPv4 in four-part dotted decimal, also as the tail of IPv6 text; IPv6 without a zone). Anything looser
 * ("10.1", "0x7f.1", "::ffff:010.0.0.1", a CIDR, "fe80::1%eth0") is refused, because the address goes into an ipset
 * entry or an iptables rule and a lenient parser would ban something unintended.
 */
import type ipaddr from 'ipaddr.js';
import ipaddrLib from 'ipaddr.js';
import { isDottedQuad, parseIPv6, parseNetwork } from '../net/addr.js';
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

/**
 * The most addresses one network ban may stand for: a ban set holds hosts (ipset hash:ip, nft address sets, one
 * lookup a packet), so a network is banned as its addresses. A /16 of IPv4 or a /112 of IPv6 at most; a larger
 * network is a blocklist's job (BLOCKLIST_<NAME>_FILE, an interval set).
 */
export const MAX_BAN_EXPANSION = 65_536;

/**
 * A host address, or a network as `ADDRESS/PREFIX` (host bits cleared; a /32 or /128 is its host address), no
 * larger than MAX_BAN_EXPANSION addresses: what `ban` and `unban` take. Undefined for anything else.
 */
export function parseBanNetwork(raw: string): BanAddress | undefined {
  const text = raw.trim();
  if (!text.includes('/')) return parseBanAddress(text);
  const net = parseNetwork(text);
  if (!net) return undefined;
  const bits = net.family === 'ipv4' ? 32 : 128;
  if (net.prefix === bits) return parseBanAddress(net.network);
  if (2 ** (bits - net.prefix) > MAX_BAN_EXPANSION) return undefined;
  return { ip: `${net.network}/${net.prefix}`, family: net.family };
}

/** A network ban (a CIDR): a chain holds it as one rule, a set as its addresses (expandBan). */
export const isNetworkBan = (a: Pick<BanAddress, 'ip'>) => a.ip.includes('/');

/** The addresses a ban stands for in a set: itself, or each address of its network (network and broadcast too). */
export function expandBan(a: BanAddress): string[] {
  if (!isNetworkBan(a)) return [a.ip];
  const [base, prefix] = a.ip.split('/') as [string, string];
  const count = 2 ** ((a.family === 'ipv4' ? 32 : 128) - Number(prefix));
  if (a.family === 'ipv4') {
    const start = base.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
    return Array.from({ length: count }, (_, i) => [24, 16, 8, 0].map((s) => ((start + i) >>> s) & 255).join('.'));
  }
  const bytes = parseIPv6(base)!.toByteArray();
  return Array.from({ length: count }, (_, i) => {
    const b = [...bytes];
    b[14] = (b[14]! + (i >> 8)) & 255;
    b[15] = (b[15]! + (i & 255)) & 255;
    return ipaddrLib.fromByteArray(b).toString();
  });
}

/**
 * Splits addresses by family, refusing the whole list if any one is bad (nothing is half-banned); `networks`
 * accepts CIDRs too (parseBanNetwork).
 */
export function parseBanAddresses(raws: readonly string[], opts: { readonly networks?: boolean } = {}): { ok: BanAddress[]; bad: string[] } {
  const ok: BanAddress[] = [];
  const bad: string[] = [];
  const seen = new Set<string>();
  const parse = opts.networks ? parseBanNetwork : parseBanAddress;
  for (const raw of raws) {
    const parsed = parse(raw);
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
