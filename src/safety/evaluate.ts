/**
 * What the INPUT chain of a compiled ruleset does with one packet, decided on the model (src/model.ts) without a
 * kernel: the lock-out guard asks it whether the admin's next SSH connection would get in. Matches the kernel
 * cannot settle in advance (hit-rate limits, ban sets, ban chains fail2ban fills later) are "maybe": a maybe-DROP
 * is recorded and passed over, a maybe-ACCEPT is not trusted, so the verdict errs towards "locked out".
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
}

export interface Verdict {
  readonly action: 'ACCEPT' | 'DROP';
  /** The rule that decided; undefined when the chain's policy did. */
  readonly rule?: Rule;
  /** Rules that could drop the packet depending on kernel state (limits, bans), passed over on the way. */
  readonly conditional: readonly Rule[];
}

type Tri = 'yes' | 'no' | 'maybe';
const MAX_DEPTH = 8;

export function evaluateInput(ruleset: Ruleset, probe: Probe): Verdict {
  const filter = ruleset.tables.find((t) => t.name === 'filter');
  if (!filter) return { action: 'ACCEPT', conditional: [] };
  const conditional: Rule[] = [];
  const walk = (chain: string, depth: number): Verdict | undefined => {
    for (const rule of filter.rules.filter((r) => r.chain === chain)) {
      const m = matches(rule.match, probe);
      if (m === 'no') continue;
      const t = rule.target;
      // A snippet's rule is the admin's own words for one tool: what it matches is not known here.
      if (t.kind === 'RAW') { conditional.push(rule); continue; }
      if (t.kind === 'jump') {
        // A ban chain is empty in the model but fail2ban fills it: whatever it holds could drop this source.
        conditional.push(rule);
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
  const decided = walk('INPUT', 0);
  if (decided) return decided;
  const policy = filter.chains.find((c) => c.name === 'INPUT')?.policy ?? 'ACCEPT';
  return { action: policy, conditional };
}

function matches(m: Match, p: Probe): Tri {
  const parts: Tri[] = [
    m.inIface === undefined ? 'yes' : ifaceMatch(m.inIface, p),
    m.outIface === undefined ? 'yes' : 'no',
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

/** Only loopback traffic arrives on lo; which other interface a remote packet uses is not known here. */
function ifaceMatch(iface: string, p: Probe): Tri {
  const loopback = isLoopback(p.src);
  if (iface === 'lo') return loopback ? 'yes' : 'no';
  return loopback ? 'no' : 'maybe';
}

function isLoopback(ip: string): boolean {
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
