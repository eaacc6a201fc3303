/**
 * Which addresses a ban must never take: one pure function over facts gathered elsewhere (safety/ban-facts.ts), so
 * the `ban` verb and any later remote or fleet receiver refuse the same addresses for the same reasons. A ban on
 * the admin's live session cuts it (bans sit before the replies accept); a ban on the host itself, loopback,
 * multicast or a broadcast address is nonsense; a ban on a trusted net can never take effect (its accept comes
 * first) and would only hide that from whoever reads the ban list.
 */
import ipaddr from 'ipaddr.js';
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

export interface BanRefusal {
  readonly ip: string;
  readonly reason: string;
  /** --force may override it: only a remembered (not live) admin address, the one case the admin may know better. */
  readonly forceable: boolean;
}

/** Why `raw` must not be banned, or undefined when it may be. Unparseable text is the caller's to refuse. */
export function refusalFor(raw: string, facts: BanGuardFacts): BanRefusal | undefined {
  return banGuard(facts)(raw);
}

/** Every refusal for a batch; with `force`, the forceable ones are let through. */
export function refusalsFor(ips: readonly string[], facts: BanGuardFacts, opts: { readonly force?: boolean } = {}): BanRefusal[] {
  const guard = banGuard(facts);
  const refused: BanRefusal[] = [];
  for (const ip of ips) {
    const r = guard(ip);
    if (r && !(opts.force && r.forceable)) refused.push(r);
  }
  return refused;
}

type Addr = ipaddr.IPv4 | ipaddr.IPv6;
interface Net { readonly base: Addr; readonly len: number; readonly key: string; readonly text: string }

/**
 * The facts parsed once into lookups keyed by canonical address text, so a batch of 10k costs one parse per
 * address instead of one per address and fact (`ban -` of a blocklist spent its time re-parsing the facts).
 */
export function banGuard(facts: BanGuardFacts): (raw: string) => BanRefusal | undefined {
  const sessions = new Map<string, SshSession>();
  for (const s of facts.sessions) { const k = canonical(s.client); if (k !== undefined && !sessions.has(k)) sessions.set(k, s); }
  const own = new Map<string, HostAddress>();
  const broadcasts = new Map<string, HostAddress>();
  for (const a of facts.hostAddresses) {
    const k = canonical(a.address);
    if (k !== undefined && !own.has(k)) own.set(k, a);
    const b = directedBroadcast(a);
    if (b !== undefined && !broadcasts.has(b)) broadcasts.set(b, a);
  }
  const trusted = facts.trusted.map((t) => network(t.net, t.key)).filter((n): n is Net => n !== undefined);
  const admins = new Set(facts.adminSources.map(canonical).filter((k): k is string => k !== undefined));
  return (raw) => {
    const addr = parse(raw);
    if (!addr) return undefined;
    const ip = addr.toString();
    const refuse = (reason: string, forceable = false): BanRefusal => ({ ip, reason, forceable });
    const session = sessions.get(ip);
    if (session) return refuse(`it is the client of a live SSH session (${hostPort(session.client, session.clientPort)} -> ${hostPort(session.server, session.serverPort)})`);
    const range = RANGE_REASONS[addr.range()];
    if (range) return refuse(range);
    const mine = own.get(ip);
    if (mine) return refuse(`it is this host's own address (${mine.iface})`);
    const directed = broadcasts.get(ip);
    if (directed) return refuse(`it is the broadcast address of ${networkOf(directed.cidr!)} (${directed.iface})`);
    const net = trusted.find((t) => t.base.kind() === addr.kind() && addr.match(t.base, t.len));
    if (net) return refuse(`it is in ${net.key} (${net.text}), accepted before any ban: the ban could never take effect`);
    if (admins.has(ip)) return refuse('it is a recent admin address (remembered from an SSH session in the last 30 days); --force bans it anyway', true);
    return undefined;
  };
}

const RANGE_REASONS: Readonly<Record<string, string>> = {
  loopback: 'it is a loopback address',
  multicast: 'it is a multicast address, never the source of a connection',
  unspecified: 'it is the unspecified address, never the source of a connection',
  broadcast: 'it is the limited broadcast address',
};

const SHOWN = 5;

/** One message for the whole batch: nothing is banned when any address is refused, so each refused one is named. */
export function refusalMessage(refused: readonly BanRefusal[], total: number): string {
  const head = refused.length === 1 && total === 1 ? `refusing to ban ${refused[0]!.ip}: ${refused[0]!.reason}`
    : `refusing to ban ${refused.length} of ${total} addresses: ${refused.slice(0, SHOWN).map((r) => `${r.ip}: ${r.reason}`).join('; ')}` +
      (refused.length > SHOWN ? `; and ${refused.length - SHOWN} more` : '');
  return `${head}; nothing was banned`;
}

function parse(raw: string): Addr | undefined {
  try {
    return ipaddr.process(raw.trim().replace(/%.*$/, ''));
  } catch {
    return undefined;
  }
}

const canonical = (raw: string): string | undefined => parse(raw)?.toString();

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** A trusted net as a base and prefix; an IPv4-mapped IPv6 net is the IPv4 net it maps, as the ban sets see it. */
function network(text: string, key: string): Net | undefined {
  try {
    const [base, len] = text.includes('/') ? ipaddr.parseCIDR(text) : [ipaddr.parse(text), text.includes(':') ? 128 : 32];
    const mapped = base.kind() === 'ipv6' && (base as ipaddr.IPv6).isIPv4MappedAddress();
    return mapped ? { base: (base as ipaddr.IPv6).toIPv4Address(), len: len - 96, key, text } : { base, len, key, text };
  } catch {
    return undefined;
  }
}

/** The all-ones host part of an IPv4 subnet that has one (a /31 or /32 has no broadcast). */
function directedBroadcast(a: HostAddress): string | undefined {
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
