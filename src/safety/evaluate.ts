/**
 * What the INPUT (or OUTPUT) chain of a compiled ruleset does with one packet, decided on the model (src/model.ts)
 * without a kernel: the lock-out guard asks it whether the admin's next SSH connection would get in, and whether
 * the session's replies would get out. Matches the kernel cannot settle in advance (hit-rate limits, ban sets, ban
 * chains fail2ban fills later, an interface the routes cannot name) are "maybe": a maybe-DROP is recorded and passed
 * over, a maybe-ACCEPT is not trusted, so the verdict errs towards "locked out".
 */
import ipaddr from 'ipaddr.js';
import type { AddrMatch, Match, Rule, Ruleset } from '../model.js';

export interface Probe {
  readonly src: string;
  readonly dst?: string;
  readonly proto: 'tcp' | 'udp';
  readonly dport: number;
  /** NEW: a fresh connection; ESTABLISHED: a packet of the session already open. */
  readonly state: 'NEW' | 'ESTABLISHED';
  /** The interface the packet arrives on (INPUT) or leaves by (OUTPUT), where the routes tell; else "maybe". */
  readonly iface?: string;
}

/** The chains a session's packets meet on this host: its packets in, its replies out. */
export type Direction = 'INPUT' | 'OUTPUT';

export interface Verdict {
  readonly action: 'ACCEPT' | 'DROP';
  /** The rule that decided; undefined when the chain's policy did. */
  readonly rule?: Rule;
  /** Rules that could drop the packet depending on kernel state (limits, bans), passed over on the way. */
  readonly conditional: readonly Rule[];
}

type Tri = 'yes' | 'no' | 'maybe';
const MAX_DEPTH = 8;

/** The INPUT chain's verdict: what the guard asked before OUTPUT could be closed too. */
export const evaluateInput = (ruleset: Ruleset, probe: Probe): Verdict => evaluateChain(ruleset, 'INPUT', probe);

export function evaluateChain(ruleset: Ruleset, chain: Direction, probe: Probe): Verdict {
  const filter = ruleset.tables.find((t) => t.name === 'filter');
  if (!filter) return { action: 'ACCEPT', conditional: [] };
  const conditional: Rule[] = [];
  const walk = (name: string, depth: number): Verdict | undefined => {
    for (const rule of filter.rules.filter((r) => r.chain === name)) {
      const m = matches(rule.match, probe, chain);
      if (m === 'no') continue;
      const t = rule.target;
      if (t.kind === 'jump') {
        // A ban chain is empty in the model but fail2ban fills it: whatever it holds could drop this source. A
        // chain the plan fills (the per-address unicast chain) decides by its own rules.
        if (!filter.rules.some((r) => r.chain === t.chain)) conditional.push(rule);
        const inner = depth < MAX_DEPTH ? walk(t.chain, depth + 1) : undefined;
        if (inner && m === 'yes') return inner;
        continue;
      }
      if (t.kind === 'RETURN' && m === 'yes') return undefined;
      if (t.kind === 'DROP') {
        if (m === 'yes') return { action: 'DROP', rule, conditional };
        conditional.push(rule);
      }
      if (t.kind === 'ACCEPT' && m === 'yes') return { action: 'ACCEPT', rule, conditional };
    }
    return undefined;
  };
  const decided = walk(chain, 0);
  if (decided) return decided;
  const policy = filter.chains.find((c) => c.name === chain)?.policy ?? 'ACCEPT';
  return { action: policy, conditional };
}

function matches(m: Match, p: Probe, chain: Direction): Tri {
  // A packet has an inbound interface in INPUT and an outbound one in OUTPUT, never the other.
  const [ours, theirs] = chain === 'INPUT' ? [m.inIface, m.outIface] : [m.outIface, m.inIface];
  const parts: Tri[] = [
    ours === undefined ? 'yes' : ifaceMatch(ours, p, chain),
    theirs === undefined ? 'yes' : 'no',
    addr(m.src, p.src),
    p.dst === undefined ? (m.dst ? 'maybe' : 'yes') : addr(m.dst, p.dst),
    m.proto === undefined ? 'yes' : m.proto === p.proto ? 'yes' : 'no',
    m.icmpType === undefined ? 'yes' : 'no',
    m.dports === undefined ? 'yes' : m.dports.some((d) => inRange(d, p.dport)) ? 'yes' : 'no',
    m.ctstate === undefined ? 'yes' : m.ctstate.includes(p.state) ? 'yes' : 'no',
    // --set always matches (it records and goes on); --update matches only once the source is over its limit.
    m.recent === undefined || m.recent.op === 'set' ? 'yes' : 'maybe',
    m.srcSet === undefined ? 'yes' : 'maybe',
    m.limit === undefined ? 'yes' : 'maybe',
  ];
  return parts.includes('no') ? 'no' : parts.includes('maybe') ? 'maybe' : 'yes';
}

/** The probe's interface when the routes gave it; else only loopback traffic is known to use lo. */
function ifaceMatch(iface: string, p: Probe, chain: Direction): Tri {
  if (p.iface !== undefined) return p.iface === iface ? 'yes' : 'no';
  const loopback = isLoopback(chain === 'INPUT' ? p.src : p.dst ?? '');
  if (iface === 'lo') return loopback ? 'yes' : 'no';
  return loopback ? 'no' : 'maybe';
}

function isLoopback(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const a = ipaddr.process(ip);
  return a.range() === 'loopback';
}

function addr(m: AddrMatch | undefined, ip: string): Tri {
  if (m === undefined) return 'yes';
  const a = ipaddr.process(ip);
  const [net, len] = ipaddr.parseCIDR(m.cidr);
  const inside = a.kind() === net.kind() && a.match([net, len] as [typeof net, number]);
  return inside !== Boolean(m.negate) ? 'yes' : 'no';
}

function inRange(dport: string, port: number): boolean {
  const [lo, hi] = dport.split(':').map(Number);
  return port >= lo! && port <= (hi ?? lo!);
}
