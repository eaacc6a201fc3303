/**
 * Whether one rule's match holds for one packet, in two parts: what the packet alone settles (addresses, ports,
 * protocol, state) and what only the kernel's state does (ban set members, the hit-rate limiter's counts). The
 * second is answered from KernelFacts when they are known (explain reads them live) and is "maybe" when they are not
 * (the lock-out guard judges a ruleset before it is loaded). Pure.
 */
import ipaddr from 'ipaddr.js';
import type { Hook, KernelFacts, RecentMatch, RecentSource, SetMember, WalkMatch } from '../backend/types.js';
import type { AddrMatch } from '../model.js';
import { duration } from '../status/format.js';

export type Tri = 'yes' | 'no' | 'maybe';

/** One packet, as explain takes it on its command line and the lock-out guard builds it for an SSH session. */
export interface Probe {
  readonly src: string;
  readonly dst?: string;
  /** icmp: an echo request (ICMPv6 for an IPv6 source). */
  readonly proto: 'tcp' | 'udp' | 'icmp';
  readonly dport?: number;
  /** The interface it arrives on; unknown when absent (only loopback sources are known to come in on lo). */
  readonly iface?: string;
  /** NEW: a fresh connection; ESTABLISHED: a packet of a session already open. */
  readonly state: 'NEW' | 'ESTABLISHED';
}

/** The answer for one rule: the packet's part and the kernel's, each with what was found (for the path). */
export interface Judgement {
  readonly packet: Tri;
  readonly kernel: Tri;
  readonly notes: readonly string[];
}

const ECHO_REQUEST: Readonly<Record<'ipv4' | 'ipv6', readonly string[]>> = { ipv4: ['8', 'echo-request'], ipv6: ['128', 'echo-request'] };

export const familyOf = (ip: string): 'ipv4' | 'ipv6' => (ip.includes(':') ? 'ipv6' : 'ipv4');

const all = (parts: readonly Tri[]): Tri => (parts.includes('no') ? 'no' : parts.includes('maybe') ? 'maybe' : 'yes');

export function judge(m: WalkMatch, p: Probe, hook: Hook, facts: KernelFacts): Judgement {
  const family = familyOf(p.src);
  const packet = all([
    m.family === undefined || m.family === family ? 'yes' : 'no',
    m.inIface === undefined ? 'yes' : hook === 'output' ? 'no' : ifaceMatch(m.inIface, p, p.src),
    // Leaving: the probe's interface is the one it goes out by (the lock-out guard's replies), its far end the dst.
    m.outIface === undefined ? 'yes' : hook === 'input' ? 'no' : ifaceMatch(m.outIface, p, p.dst ?? ''),
    addr(m.src, p.src),
    m.dst === undefined ? 'yes' : p.dst === undefined ? 'maybe' : addr(m.dst, p.dst),
    m.proto === undefined ? 'yes' : protoMatch(m.proto, p),
    m.icmpType === undefined ? 'yes' : p.proto === 'icmp' && ECHO_REQUEST[family].includes(m.icmpType) ? 'yes' : 'no',
    m.dports === undefined ? 'yes' : p.dport === undefined ? (p.proto === 'icmp' ? 'no' : 'maybe')
      : m.dports.some((d) => inRange(d, p.dport!)) ? 'yes' : 'no',
    m.ctstate === undefined ? 'yes' : m.ctstate.includes(p.state) ? 'yes' : 'no',
  ]);
  if (packet === 'no') return { packet, kernel: 'no', notes: [] };
  const notes: string[] = [];
  const kernel = all([
    m.srcSet === undefined ? 'yes' : inSet(m.srcSet, p.src, facts, notes),
    m.recent === undefined ? 'yes' : recent(m.recent, p.src, facts, notes),
    m.budget === undefined ? 'yes' : budget(m.budget, p.src, facts, notes),
    m.limit === undefined ? 'yes' : note(notes, 'maybe', `a rate limit (${m.limit.rate}, burst ${m.limit.burst}) decides`),
    m.unread === undefined || m.unread.length === 0 ? 'yes' : note(notes, 'maybe', `cannot read: ${m.unread.join(' ')}`),
  ]);
  return { packet, kernel, notes };
}

function note(notes: string[], tri: Tri, text: string): Tri {
  notes.push(text);
  return tri;
}

/** iptables' "eth+" and nft's "eth*" are prefixes. Only loopback traffic arrives on lo. */
function ifaceMatch(pattern: string, p: Probe, farEnd: string): Tri {
  const wildcard = /[+*]$/.test(pattern);
  const fits = (name: string) => (wildcard ? name.startsWith(pattern.slice(0, -1)) : name === pattern);
  if (p.iface !== undefined) return fits(p.iface) ? 'yes' : 'no';
  const loopback = isLoopback(farEnd);
  if (fits('lo')) return loopback ? 'yes' : pattern === 'lo' ? 'no' : 'maybe';
  return loopback ? 'no' : 'maybe';
}

function protoMatch(proto: string, p: Probe): Tri {
  const wanted = p.proto === 'icmp' ? (familyOf(p.src) === 'ipv6' ? 'ipv6-icmp' : 'icmp') : p.proto;
  return proto === wanted || (proto === 'icmpv6' && wanted === 'ipv6-icmp') ? 'yes' : 'no';
}

function isLoopback(ip: string): boolean {
  try { return ipaddr.process(ip).range() === 'loopback'; } catch { return false; }
}

function addr(m: AddrMatch | undefined, ip: string): Tri {
  if (m === undefined) return 'yes';
  return covers(m.cidr, ip) !== Boolean(m.negate) ? 'yes' : 'no';
}

/** Whether an address, network ("a/len") or range ("a-b") covers `ip`; an entry of the other family never does. */
export function covers(entry: string, ip: string): boolean {
  try {
    const a = ipaddr.process(ip);
    const range = entry.split('-');
    if (range.length === 2) {
      const [lo, hi] = range.map((x) => ipaddr.process(x.trim()));
      if (lo!.kind() !== a.kind()) return false;
      const n = (x: ipaddr.IPv4 | ipaddr.IPv6) => BigInt(`0x${x.toByteArray().map((b) => b.toString(16).padStart(2, '0')).join('')}`);
      return n(lo!) <= n(a) && n(a) <= n(hi!);
    }
    const [net, len] = entry.includes('/') ? ipaddr.parseCIDR(entry) : [ipaddr.process(entry), a.kind() === 'ipv4' ? 32 : 128];
    return net.kind() === a.kind() && a.match([net, len] as [typeof net, number]);
  } catch {
    return false;
  }
}

function inRange(dport: string, port: number): boolean {
  const [lo, hi] = dport.split(/[:-]/).map(Number);
  return port >= lo! && port <= (hi ?? lo!);
}

const memberOf = (members: readonly SetMember[], ip: string) => members.find((m) => covers(m.ip, ip));
const left = (m: SetMember) => (m.expiresIn === undefined ? '' : `, ${duration(m.expiresIn)} left`);

function inSet(set: string, ip: string, facts: KernelFacts, notes: string[]): Tri {
  const members = facts.sets?.get(set);
  if (members === undefined) return note(notes, 'maybe', `whether ${ip} is in set ${set} is not known`);
  const m = memberOf(members, ip);
  return m ? note(notes, 'yes', `${ip} is in set ${set}${m.ip === ip ? '' : ` (as ${m.ip})`}${left(m)}`)
    : note(notes, 'no', `${ip} is not in set ${set}`);
}

/**
 * xt_recent's --update (and --rcheck): the source made `hitcount` or more attempts in the last `seconds`.
 * `--set` always matches: it records the hit and goes on.
 */
function recent(r: RecentMatch, ip: string, facts: KernelFacts, notes: string[]): Tri {
  if (r.op === 'set') return 'yes';
  const table = facts.recent?.get(r.name);
  if (table === undefined) return note(notes, 'maybe', `the hit-rate list ${r.name} is not known`);
  const source: RecentSource | undefined = table.find((s) => covers(s.src, ip));
  const limit = r.hitcount ?? 1;
  const within = r.seconds === undefined ? '' : ` in ${r.seconds} s`;
  if (!source) return note(notes, 'no', `${ip} has no hits in list ${r.name} (limit ${limit}${within})`);
  if (source.ages === undefined) return note(notes, 'maybe', `the ages of ${ip}'s hits in list ${r.name} are not known`);
  const hits = source.ages.filter((a) => r.seconds === undefined || a <= r.seconds).length;
  return note(notes, hits >= limit ? 'yes' : 'no', `${ip} has ${hits} hit${hits === 1 ? '' : 's'}${within} in list ${r.name} (limit ${limit})`);
}

/** The nftables window: the source's element has counted its whole budget of new connections. */
function budget(b: NonNullable<WalkMatch['budget']>, ip: string, facts: KernelFacts, notes: string[]): Tri {
  const members = facts.sets?.get(b.set);
  if (members === undefined) return note(notes, 'maybe', `the hit-rate window ${b.set} is not known`);
  const m = memberOf(members, ip);
  const used = m?.packets ?? 0;
  return note(notes, m && used >= b.burst ? 'yes' : 'no',
    `${ip} used ${used} of ${b.burst} new connections in window ${b.set}${m ? left(m) : ''}`);
}
