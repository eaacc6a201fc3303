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
  const addr = parse(raw);
  if (!addr) return undefined;
  const ip = addr.toString();
  const refuse = (reason: string, forceable = false): BanRefusal => ({ ip, reason, forceable });
  const session = facts.sessions.find((s) => same(s.client, addr));
  if (session) return refuse(`it is the client of a live SSH session (${hostPort(session.client, session.clientPort)} -> ${hostPort(session.server, session.serverPort)})`);
  const range = addr.range();
  if (range === 'loopback') return refuse('it is a loopback address');
  if (range === 'multicast') return refuse('it is a multicast address, never the source of a connection');
  if (range === 'unspecified') return refuse('it is the unspecified address, never the source of a connection');
  if (range === 'broadcast') return refuse('it is the limited broadcast address');
  const own = facts.hostAddresses.find((a) => same(a.address, addr));
  if (own) return refuse(`it is this host's own address (${own.iface})`);
  const directed = addr.kind() === 'ipv4' ? facts.hostAddresses.find((a) => isDirectedBroadcast(addr as ipaddr.IPv4, a)) : undefined;
  if (directed) return refuse(`it is the broadcast address of ${networkOf(directed.cidr!)} (${directed.iface})`);
  const trusted = facts.trusted.find((t) => contains(t.net, addr));
  if (trusted) return refuse(`it is in ${trusted.key} (${trusted.net}), accepted before any ban: the ban could never take effect`);
  if (facts.adminSources.some((a) => same(a, addr))) {
    return refuse('it is a recent admin address (remembered from an SSH session in the last 30 days); --force bans it anyway', true);
  }
  return undefined;
}

/** Every refusal for a batch; with `force`, the forceable ones are let through. */
export function refusalsFor(ips: readonly string[], facts: BanGuardFacts, opts: { readonly force?: boolean } = {}): BanRefusal[] {
  return ips.map((ip) => refusalFor(ip, facts)).filter((r): r is BanRefusal => r !== undefined && !(opts.force && r.forceable));
}

const SHOWN = 5;

/** One message for the whole batch: nothing is banned when any address is refused, so each refused one is named. */
export function refusalMessage(refused: readonly BanRefusal[], total: number): string {
  const head = refused.length === 1 && total === 1 ? `refusing to ban ${refused[0]!.ip}: ${refused[0]!.reason}`
    : `refusing to ban ${refused.length} of ${total} addresses: ${refused.slice(0, SHOWN).map((r) => `${r.ip}: ${r.reason}`).join('; ')}` +
      (refused.length > SHOWN ? `; and ${refused.length - SHOWN} more` : '');
  return `${head}; nothing was banned`;
}

function parse(raw: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const text = raw.trim().replace(/%.*$/, '');
  return ipaddr.isValid(text) ? ipaddr.process(text) : undefined;
}

const same = (other: string, addr: ipaddr.IPv4 | ipaddr.IPv6) => parse(other)?.toString() === addr.toString();

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

function contains(net: string, addr: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  try {
    const [base, len] = net.includes('/') ? ipaddr.parseCIDR(net) : [ipaddr.parse(net), addr.kind() === 'ipv4' ? 32 : 128];
    const b = base.kind() === 'ipv6' && (base as ipaddr.IPv6).isIPv4MappedAddress() ? (base as ipaddr.IPv6).toIPv4Address() : base;
    return b.kind() === addr.kind() && addr.match(b, b === base ? len : len - 96);
  } catch {
    return false;
  }
}

/** The all-ones host part of an IPv4 subnet that has one (a /31 or /32 has no broadcast). */
function isDirectedBroadcast(addr: ipaddr.IPv4, a: HostAddress): boolean {
  if (!a.cidr || a.cidr.includes(':')) return false;
  try {
    const [, len] = ipaddr.parseCIDR(a.cidr);
    return len <= 30 && ipaddr.IPv4.broadcastAddressFromCIDR(a.cidr).toString() === addr.toString();
  } catch {
    return false;
  }
}

function networkOf(cidr: string): string {
  return `${ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()}/${cidr.split('/')[1]}`;
}
