/**
 * Finds rules an earlier rule makes unreachable: an earlier rule that ends the packet's journey (ACCEPT, DROP,
 * RETURN) and matches every packet the later one could match. The seed has two such bugs (the "source is MYIP"
 * drop behind the trusted-subnet accept; the SSH limiter behind a plain port-22 accept), so `check` reports them.
 */
import ipaddr from 'ipaddr.js';
import type { AddrMatch, Match, Rule } from '../model.js';
import { describeRule } from '../render/iptables.js';

const TERMINAL = new Set(['ACCEPT', 'DROP', 'RETURN']);

export function findShadowed(rules: readonly Rule[]): string[] {
  const found: string[] = [];
  rules.forEach((later, j) => {
    const earlier = rules.slice(0, j).find((r) =>
      r.chain === later.chain && TERMINAL.has(r.target.kind) && covers(r.match, later.match));
    if (earlier) {
      found.push(`rule "${describeRule(later)}" can never match: "${describeRule(earlier)}" comes first and matches all its packets`);
    }
  });
  return found;
}

/** True when every packet matching `b` also matches `a`. Unknown or conditional matches make it false. */
export function covers(a: Match, b: Match): boolean {
  if (a.recent && a.recent.op !== 'set') return false;
  if (a.srcSet !== undefined) return false;
  if (a.inIface !== undefined && a.inIface !== b.inIface) return false;
  if (a.outIface !== undefined && a.outIface !== b.outIface) return false;
  if (a.proto !== undefined && a.proto !== b.proto) return false;
  if (a.icmpType !== undefined && a.icmpType !== b.icmpType) return false;
  if (!addrCovers(a.src, b.src) || !addrCovers(a.dst, b.dst)) return false;
  if (a.ctstate !== undefined && !(b.ctstate ?? []).every((s) => a.ctstate!.includes(s)) ) return false;
  if (a.ctstate !== undefined && b.ctstate === undefined) return false;
  return portsCover(a.dports, b.dports);
}

function addrCovers(a: AddrMatch | undefined, b: AddrMatch | undefined): boolean {
  if (a === undefined) return true;
  if (b === undefined) return false;
  if (!a.negate && !b.negate) return within(b.cidr, a.cidr);
  if (a.negate && b.negate) return within(a.cidr, b.cidr);
  if (a.negate && !b.negate) return disjoint(a.cidr, b.cidr);
  return false;
}

function within(inner: string, outer: string): boolean {
  const [innerAddr, innerLen] = ipaddr.parseCIDR(inner);
  const outerRange = ipaddr.parseCIDR(outer);
  return innerAddr.kind() === outerRange[0].kind() && innerLen >= outerRange[1] && innerAddr.match(outerRange);
}

const disjoint = (x: string, y: string) => !within(x, y) && !within(y, x);

function portsCover(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined) return true;
  if (b === undefined) return false;
  const ranges = a.map(range);
  return b.map(range).every(([lo, hi]) => ranges.some(([alo, ahi]) => alo <= lo && hi <= ahi));
}

function range(port: string): [number, number] {
  const [lo, hi] = port.split(':').map(Number);
  return [lo!, hi ?? lo!];
}
