/**
 * Finds rules an earlier rule makes unreachable: an earlier rule that ends the packet's journey (ACCEPT, DROP,
 * RETURN) and matches every packet the later one could match. The seed has two such bugs (the "source is MYIP"
 * drop behind the trusted-subnet accept; the SSH limiter behind a plain port-22 accept), so `check` reports them.
 *
 * It runs on every `start`, so it must stay cheap on large rulesets (many trusted nets and per-source service
 * rules): each rule's addresses and ports are parsed once, and earlier rules with a source address are indexed by
 * network, so a rule is compared only with the few earlier ones whose source could contain its own. Parsing CIDRs
 * for every pair made `start` take 17 s on a 1000-rule ruleset.
 */
import ipaddr from 'ipaddr.js';
import type { AddrMatch, Match, Rule } from '../model.js';
import { describeRule } from './describe.js';

const TERMINAL = new Set(['ACCEPT', 'DROP', 'RETURN']);

/** A CIDR as the first and last address it holds (bigint, so IPv4 and IPv6 compare alike). */
interface Span { readonly v6: boolean; readonly len: number; readonly lo: bigint; readonly hi: bigint; readonly key: string }
interface Addr { readonly span: Span; readonly negate: boolean }

/** A match with its addresses and ports parsed, ready for cheap pairwise comparison. */
interface Parsed {
  readonly match: Match;
  /** Conditional matches (the limiter's update, ban sets) never cover another rule. */
  readonly conditional: boolean;
  readonly src?: Addr;
  readonly dst?: Addr;
  readonly ports?: readonly (readonly [number, number])[];
}

export function findShadowed(rules: readonly Rule[]): string[] {
  const found: string[] = [];
  const earlier = new EarlierRules();
  rules.forEach((later, index) => {
    const p = parse(later.match);
    const first = earlier.firstCovering(later.chain, p);
    if (first) {
      found.push(`rule "${describeRule(later)}" can never match: "${describeRule(first.rule)}" comes first and matches all its packets`);
    }
    if (TERMINAL.has(later.target.kind)) earlier.add({ index, rule: later, parsed: p });
  });
  return found;
}

interface Entry { readonly index: number; readonly rule: Rule; readonly parsed: Parsed }

/**
 * The terminal rules seen so far. One with a plain (not negated) source address can only cover a rule whose own
 * source lies inside it, so those are kept by (family, prefix length, network): a later rule looks up its own
 * network at each prefix length in use. The rest are few (loopback, replies, services open to all) and are scanned.
 */
class EarlierRules {
  private readonly scanned: Entry[] = [];
  private readonly bySource = new Map<string, Entry[]>();
  private readonly lengths: { readonly v6: boolean; readonly len: number }[] = [];

  add(e: Entry): void {
    const src = e.parsed.src;
    if (!src || src.negate) { this.scanned.push(e); return; }
    const { v6, len } = src.span;
    if (!this.lengths.some((l) => l.v6 === v6 && l.len === len)) this.lengths.push({ v6, len });
    const key = sourceKey(src.span, len);
    const list = this.bySource.get(key);
    if (list) list.push(e);
    else this.bySource.set(key, [e]);
  }

  firstCovering(chain: string, p: Parsed): Entry | undefined {
    let best = this.scanned.find((e) => e.rule.chain === chain && coversParsed(e.parsed, p));
    const src = p.src;
    if (!src || src.negate) return best;
    for (const { v6, len } of this.lengths) {
      if (v6 !== src.span.v6 || len > src.span.len) continue;
      for (const e of this.bySource.get(sourceKey(src.span, len)) ?? []) {
        if (best && e.index > best.index) break;
        if (e.rule.chain === chain && coversParsed(e.parsed, p)) { best = e; break; }
      }
    }
    return best;
  }
}

/** The network holding `span` at prefix length `len`, as a map key. */
function sourceKey(span: Span, len: number): string {
  if (len === span.len) return span.key;
  const host = (1n << BigInt((span.v6 ? 128 : 32) - len)) - 1n;
  return `${span.v6}/${len}/${span.lo & ~host}`;
}

/** True when every packet matching `b` also matches `a`. Unknown or conditional matches make it false. */
export function covers(a: Match, b: Match): boolean {
  return coversParsed(parse(a), parse(b));
}

function coversParsed(pa: Parsed, pb: Parsed): boolean {
  const a = pa.match;
  const b = pb.match;
  if (pa.conditional) return false;
  if (a.inIface !== undefined && a.inIface !== b.inIface) return false;
  if (a.outIface !== undefined && a.outIface !== b.outIface) return false;
  if (a.proto !== undefined && a.proto !== b.proto) return false;
  if (a.icmpType !== undefined && a.icmpType !== b.icmpType) return false;
  if (!addrCovers(pa.src, pb.src) || !addrCovers(pa.dst, pb.dst)) return false;
  if (a.ctstate !== undefined) {
    if (b.ctstate === undefined) return false;
    for (const s of b.ctstate) if (!a.ctstate.includes(s)) return false;
  }
  return portsCover(pa.ports, pb.ports);
}

function parse(m: Match): Parsed {
  return {
    match: m,
    conditional: (m.recent !== undefined && m.recent.op !== 'set') || m.srcSet !== undefined || m.limit !== undefined,
    src: addr(m.src),
    dst: addr(m.dst),
    ports: m.dports?.map(range),
  };
}

const addr = (a: AddrMatch | undefined): Addr | undefined => (a === undefined ? undefined : { span: span(a.cidr), negate: a.negate === true });

/** Parsed spans by CIDR text: a large ruleset repeats the same sources across many services. */
const spans = new Map<string, Span>();

function span(cidr: string): Span {
  const known = spans.get(cidr);
  if (known) return known;
  // ipaddr.parseCIDR tries IPv6 first and throws for every IPv4 text (~60 µs each); the colon tells the family.
  const [address, len] = cidr.includes(':') ? ipaddr.IPv6.parseCIDR(cidr) : ipaddr.IPv4.parseCIDR(cidr);
  const v6 = address.kind() === 'ipv6';
  const value = address.toByteArray().reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  const host = (1n << BigInt((v6 ? 128 : 32) - len)) - 1n;
  const lo = value & ~host;
  const s: Span = { v6, len, lo, hi: value | host, key: `${v6}/${len}/${lo}` };
  if (spans.size >= 100_000) spans.clear(); // a cache, not a leak, in a long-lived caller
  spans.set(cidr, s);
  return s;
}

function addrCovers(a: Addr | undefined, b: Addr | undefined): boolean {
  if (a === undefined) return true;
  if (b === undefined) return false;
  if (!a.negate && !b.negate) return within(b.span, a.span);
  if (a.negate && b.negate) return within(a.span, b.span);
  if (a.negate && !b.negate) return !within(a.span, b.span) && !within(b.span, a.span);
  return false;
}

const within = (inner: Span, outer: Span) => inner.v6 === outer.v6 && outer.lo <= inner.lo && inner.hi <= outer.hi;

function portsCover(a: Parsed['ports'], b: Parsed['ports']): boolean {
  if (a === undefined) return true;
  if (b === undefined) return false;
  return b.every(([lo, hi]) => a.some(([alo, ahi]) => alo <= lo && hi <= ahi));
}

function range(port: string): [number, number] {
  const [lo, hi] = port.split(':').map(Number);
  return [lo!, hi ?? lo!];
}
