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

/**
 * A CIDR as the first and last address it holds: numbers for IPv4 (32 bits are exact in a double, and far cheaper
 * than bigint), bigint for IPv6; spans of different families are never compared. `keys` caches the span's network
 * at each prefix length the index asks for.
 */
interface Span {
  readonly v6: boolean;
  readonly len: number;
  readonly lo: number | bigint;
  readonly hi: number | bigint;
  readonly key: string;
  readonly keys: Map<number, string>;
}
interface Addr { readonly span: Span; readonly negate: boolean }

/** A match with its addresses and ports parsed, ready for cheap pairwise comparison. */
interface Parsed {
  readonly match: Match;
  /**
   * Conditional matches (ban sets, xt_limit) never cover another rule. A hit-rate limit is not one: every packet of
   * its match ends at its rule, dropped or let in.
   */
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

  // Plain loops, no closures or empty arrays per call: this runs once per rule, cold, on every start.
  firstCovering(chain: string, p: Parsed): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.scanned) {
      if (e.rule.chain === chain && coversParsed(e.parsed, p)) { best = e; break; }
    }
    const src = p.src;
    if (!src || src.negate) return best;
    for (const { v6, len } of this.lengths) {
      if (v6 !== src.span.v6 || len > src.span.len) continue;
      const list = this.bySource.get(sourceKey(src.span, len));
      if (list === undefined) continue;
      for (const e of list) {
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
  const known = span.keys.get(len);
  if (known !== undefined) return known;
  const key = `${span.v6}/${len}/${span.v6 ? (span.lo as bigint) & ~hostBits6(len) : networkOf4(span.lo as number, len)}`;
  span.keys.set(len, key);
  return key;
}

const hostBits6 = (len: number) => (1n << BigInt(128 - len)) - 1n;
/** The IPv4 network of `value` at prefix `len`, as an unsigned 32-bit number (the high bits are the network). */
const networkOf4 = (value: number, len: number) => (len === 0 ? 0 : (value & (~0 << (32 - len))) >>> 0);

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
    conditional: m.srcSet !== undefined || m.limit !== undefined,
    src: addr(m.src),
    dst: addr(m.dst),
    ports: m.dports && portRanges(m.dports),
  };
}

/** Parsed port lists by list: a service's rules share one list across all their sources. */
const ranges = new WeakMap<readonly string[], readonly (readonly [number, number])[]>();
function portRanges(dports: readonly string[]): readonly (readonly [number, number])[] {
  let parsed = ranges.get(dports);
  if (parsed === undefined) { parsed = dports.map(range); ranges.set(dports, parsed); }
  return parsed;
}

const addr = (a: AddrMatch | undefined): Addr | undefined => (a === undefined ? undefined : { span: span(a.cidr), negate: a.negate === true });

/** Parsed spans by CIDR text: a large ruleset repeats the same sources across many services. */
const spans = new Map<string, Span>();

function span(cidr: string): Span {
  const known = spans.get(cidr);
  if (known) return known;
  const s = cidr.includes(':') ? span6(cidr) : span4(cidr);
  if (spans.size >= 100_000) spans.clear(); // a cache, not a leak, in a long-lived caller
  spans.set(cidr, s);
  return s;
}

/** The compiled rules hold dotted quads the config checked (net/addr.ts), with or without a prefix. */
function span4(cidr: string): Span {
  const [address, prefix] = cidr.split('/');
  const len = prefix === undefined ? 32 : Number(prefix);
  const value = address!.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const lo = networkOf4(value, len);
  const hi = lo + 2 ** (32 - len) - 1;
  return { v6: false, len, lo, hi, key: `false/${len}/${lo}`, keys: new Map() };
}

function span6(cidr: string): Span {
  const [address, len] = ipaddr.IPv6.parseCIDR(cidr);
  const value = address.toByteArray().reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  const host = hostBits6(len);
  const lo = value & ~host;
  return { v6: true, len, lo, hi: value | host, key: `true/${len}/${lo}`, keys: new Map() };
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
  for (const [lo, hi] of b) {
    let inside = false;
    for (const [alo, ahi] of a) if (alo <= lo && hi <= ahi) { inside = true; break; }
    if (!inside) return false;
  }
  return true;
}

function range(port: string): [number, number] {
  const [lo, hi] = port.split(':').map(Number);
  return [lo!, hi ?? lo!];
}
