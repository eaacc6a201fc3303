/**
 * Which addresses a ban must never take: one pure function over facts gathered elsewhere (safety/ban-facts.ts), so
 * the `ban` verb and any later remote or fleet receiver refuse the same addresses for the same reasons. A ban on
 * the admin's live session cuts it (bans sit before the replies accept); a ban on the host itself, loopback,
 * multicast or a broadcast address is nonsense; a ban on a trusted net can never take effect (its accept comes
 * first) and would only hide that from whoever reads the ban list.
 */
import ipaddr from 'ipaddr.js';
import { isDottedQuad } from '../net/addr.js';
import type { SshSession } from './admin.js';

/** One address of this host, as node:os lists it (cidr "192.0.2.10/24"; absent when the OS gives none). */
export interface HostAddress { readonly iface: string; readonly address: string; readonly cidr?: string | null }

export interface BanGuardFacts {
  /** Sessions that are the admin's: the command's own (SSH_CONNECTION) and authenticated ones seen in the kernel. */
  readonly sessions: readonly SshSession[];
  /** Clients of recent sessions (safety/admin.ts): probably the admin, but the address may have been reassigned. */
  readonly adminSources: readonly string[];
  /** Every address of every interface of this host. */
  readonly hostAddresses: readonly HostAddress[];
  /** TRUSTED_NETS, plus the local subnet when TRUST_LOCAL_SUBNET=yes (labelled by the key that trusts it). */
  readonly trusted: readonly { readonly net: string; readonly key: string }[];
}

/** Why, as a word a counter can carry (the fleet service counts refused remote bans by it). */
export type RefusalCode = 'admin-session' | 'loopback' | 'multicast' | 'unspecified' | 'broadcast' | 'own-address' | 'trusted' | 'admin-source';

export interface BanRefusal {
  readonly ip: string;
  readonly reason: string;
  readonly code: RefusalCode;
  /** --force may override it: only a remembered (not live) admin address, the one case the admin may know better. */
  readonly forceable: boolean;
}

/** Why `raw` must not be banned, or undefined when it may be. Unparseable text is the caller's to refuse. */
export function refusalFor(raw: string, facts: BanGuardFacts): BanRefusal | undefined {
  return guardFor(facts)(raw);
}

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * The facts read once into sets and parsed networks, so that each address costs one parse and a few lookups: a
 * batch of 10k (`ban -`, a burst from the fleet) used to re-parse every host address and trusted net per address.
 * A dotted quad, what nearly every batch holds, is judged as its 32 bits against ipaddr.js's own ranges and the
 * trusted nets' prefixes: ipaddr's parse, range() and match() per address were most of a 10k batch's time.
 */
export function guardFor(facts: BanGuardFacts): (raw: string) => BanRefusal | undefined {
  const canon = (text: string) => parse(text)?.toString();
  const sessions = new Map(facts.sessions.map((s) => [canon(s.client), s] as const));
  const own = new Map(facts.hostAddresses.map((a) => [canon(a.address), a] as const));
  const directed = new Map(facts.hostAddresses.filter((a) => broadcastOf(a) !== undefined).map((a) => [broadcastOf(a)!, a] as const));
  const trusted = facts.trusted.map((t) => ({ ...t, ...matcher(t.net) }));
  const admins = new Set(facts.adminSources.map(canon));
  const v4 = trusted.filter((t) => t.v4 !== undefined);
  const trusted4 = (bits: number) => {
    for (let i = 0; i < v4.length; i++) if (within(bits, v4[i]!.v4!)) return v4[i];
    return undefined;
  };
  const refuse = (ip: string, code: RefusalCode, reason: string, forceable = false): BanRefusal => ({ ip, code, reason, forceable });
  // In the order the checks have always run: a session first, the admin's remembered addresses last.
  const byFacts = (ip: string, range: string): BanRefusal | undefined => {
    const session = sessions.get(ip);
    if (session) return refuse(ip, 'admin-session', `it is the client of a live SSH session (${hostPort(session.client, session.clientPort)} -> ${hostPort(session.server, session.serverPort)})`);
    if (range === 'loopback') return refuse(ip, 'loopback', 'it is a loopback address');
    if (range === 'multicast') return refuse(ip, 'multicast', 'it is a multicast address, never the source of a connection');
    if (range === 'unspecified') return refuse(ip, 'unspecified', 'it is the unspecified address, never the source of a connection');
    if (range === 'broadcast') return refuse(ip, 'broadcast', 'it is the limited broadcast address');
    const mine = own.get(ip);
    if (mine) return refuse(ip, 'own-address', `it is this host's own address (${mine.iface})`);
    const bcast = directed.get(ip);
    if (bcast) return refuse(ip, 'broadcast', `it is the broadcast address of ${networkOf(bcast.cidr!)} (${bcast.iface})`);
    return undefined;
  };
  const byTrust = (ip: string, t: (typeof trusted)[number] | undefined): BanRefusal | undefined => {
    if (t) return refuse(ip, 'trusted', `it is in ${t.key} (${t.net}), accepted before any ban: the ban could never take effect`);
    if (admins.has(ip)) return refuse(ip, 'admin-source', 'it is a recent admin address (remembered from an SSH session in the last 30 days); --force bans it anyway', true);
    return undefined;
  };
  return (raw) => {
    const text = raw.trim();
    if (isDottedQuad(text)) {
      const bits = bitsOf(text);
      return byFacts(text, range4(bits)) ?? byTrust(text, trusted4(bits));
    }
    const addr = parse(text);
    if (!addr) return undefined;
    const ip = addr.toString();
    return byFacts(ip, addr.range()) ?? byTrust(ip, trusted.find((n) => n.match(addr)));
  };
}

/** Every refusal for a batch; with `force`, the forceable ones are let through. */
export function refusalsFor(ips: readonly string[], facts: BanGuardFacts, opts: { readonly force?: boolean } = {}): BanRefusal[] {
  const check = guardFor(facts);
  const refused: BanRefusal[] = [];
  for (const ip of ips) {
    const r = check(ip);
    if (r !== undefined && !(opts.force && r.forceable)) refused.push(r);
  }
  return refused;
}

const SHOWN = 5;

/** One message for the whole batch: nothing is banned when any address is refused, so each refused one is named. */
export function refusalMessage(refused: readonly BanRefusal[], total: number): string {
  const head = refused.length === 1 && total === 1 ? `refusing to ban ${refused[0]!.ip}: ${refused[0]!.reason}`
    : `refusing to ban ${refused.length} of ${total} addresses: ${refused.slice(0, SHOWN).map((r) => `${r.ip}: ${r.reason}`).join('; ')}` +
      (refused.length > SHOWN ? `; and ${refused.length - SHOWN} more` : '');
  return `${head}; nothing was banned`;
}

function parse(raw: string): Addr | undefined {
  const text = raw.trim().replace(/%.*$/, '');
  if (isDottedQuad(text)) return ipaddr.IPv4.parse(text);
  return ipaddr.isValid(text) ? ipaddr.process(text) : undefined;
}

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** An IPv4 prefix as 32-bit numbers, for the dotted-quad path. */
interface Prefix4 { readonly base: number; readonly mask: number }

/**
 * A dotted quad's 32 bits, digit by digit: the text has passed isDottedQuad, and a split would make an array and four
 * strings per address for the garbage collector, whose scavenges were a large share of a big batch's time.
 */
function bitsOf(text: string): number {
  let bits = 0;
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      bits = (bits << 8) | octet;
      octet = 0;
    } else octet = octet * 10 + (c - 48);
  }
  return ((bits << 8) | octet) >>> 0;
}

/** As ipaddr's match(): a prefix of 0 bits (or fewer) holds every address. */
function prefix4(addr: ipaddr.IPv4, bits: number): Prefix4 {
  const mask = bits <= 0 ? 0 : (~0 << (32 - Math.min(bits, 32))) >>> 0;
  return { base: (bitsOf(addr.toString()) & mask) >>> 0, mask };
}

const within = (bits: number, p: Prefix4) => ((bits & p.mask) >>> 0) === p.base;

/**
 * ipaddr.js's table behind IPv4 range() (not in its typings), flattened to prefixes in its order: the first that
 * holds an address names its range. Plain loops, since a batch runs them before the JIT has warmed up.
 */
const SPECIAL4 = Object.entries((ipaddr.IPv4.prototype as unknown as { SpecialRanges: Record<string, [ipaddr.IPv4, number] | [ipaddr.IPv4, number][]> }).SpecialRanges)
  .flatMap(([name, ranges]) => (Array.isArray(ranges[0]) ? ranges as [ipaddr.IPv4, number][] : [ranges as [ipaddr.IPv4, number]]).map(([a, n]) => ({ name, ...prefix4(a, n) })));

/** The ranges (as range() names them) whose addresses no ban may take: byFacts refuses each by name. */
const REFUSED_RANGES: readonly string[] = ['loopback', 'multicast', 'unspecified', 'broadcast'];

const overlap = (a: Prefix4, b: Prefix4) => ((a.base & a.mask & b.mask) >>> 0) === ((b.base & a.mask & b.mask) >>> 0);

/**
 * The prefixes that can decide whether range() names a refused range: the refused ranges' own, and any other that
 * overlaps one (ipaddr's order decides between them, as 240.0.0.0/4 "reserved" holds the broadcast address).
 */
const DECIDING4 = SPECIAL4.filter((r) => SPECIAL4.some((q) => REFUSED_RANGES.includes(q.name) && overlap(r, q)));

/** What ipaddr's range() answers for this IPv4 address when that is a refused range; 'unicast' for any other. */
function range4(bits: number): string {
  for (let i = 0; i < DECIDING4.length; i++) {
    if (within(bits, DECIDING4[i]!)) return REFUSED_RANGES.includes(DECIDING4[i]!.name) ? DECIDING4[i]!.name : 'unicast';
  }
  return 'unicast';
}

/**
 * A trusted net as a test, and as a prefix for dotted quads when it is IPv4 (or v4-mapped); a net that does not
 * parse matches nothing (the config validated it already).
 */
function matcher(net: string): { match: (addr: Addr) => boolean; v4?: Prefix4 } {
  try {
    const [base, len] = net.includes('/') ? ipaddr.parseCIDR(net) : [ipaddr.parse(net), net.includes(':') ? 128 : 32];
    const b = base.kind() === 'ipv6' && (base as ipaddr.IPv6).isIPv4MappedAddress() ? (base as ipaddr.IPv6).toIPv4Address() : base;
    const bits = b === base ? len : len - 96;
    return { match: (addr) => b.kind() === addr.kind() && addr.match(b, bits), ...(b.kind() === 'ipv4' ? { v4: prefix4(b as ipaddr.IPv4, bits) } : {}) };
  } catch {
    return { match: () => false };
  }
}

/** The all-ones host part of an IPv4 subnet that has one (a /31 or /32 has no broadcast). */
function broadcastOf(a: HostAddress): string | undefined {
  if (!a.cidr || a.cidr.includes(':')) return undefined;
  try {
    const [, len] = ipaddr.parseCIDR(a.cidr);
    return len <= 30 ? ipaddr.IPv4.broadcastAddressFromCIDR(a.cidr).toString() : undefined;
  } catch {
    return undefined;
  }
}

function networkOf(cidr: string): string {
  return `${ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()}/${cidr.split('/')[1]}`;
}
