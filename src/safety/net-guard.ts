/**
 * The ban guard's refusals for a whole network: a CIDR given to `ban`, and each network of a blocklist. A network
 * is refused when it contains an address no ban may take (the admin's live session, this host, loopback, a
 * remembered admin address) or, for `ban`, when it overlaps a trusted net (accepted first, so that part of the ban
 * could never take effect). Addresses are compared as numbers, parsed once per fact, so a blocklist of 100k
 * networks costs a few comparisons each; ban-guard.ts keeps the single-address checks.
 */
import { parseIPv6, parseNetwork, type Network } from '../net/addr.js';
import type { BanGuardFacts, BanRefusal, RefusalCode } from './ban-guard.js';

interface Span { readonly v6: boolean; readonly lo: bigint; readonly hi: bigint }

const V4_BITS = 32n;
const V6_BITS = 128n;

function spanOf(net: Network): Span {
  const bits = net.family === 'ipv4' ? V4_BITS : V6_BITS;
  const base = net.family === 'ipv4'
    ? BigInt(net.network.split('.').reduce((n, octet) => n * 256 + Number(octet), 0))
    : parseIPv6(net.network)!.toByteArray().reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
  const size = 1n << (bits - BigInt(net.prefix));
  return { v6: net.family === 'ipv6', lo: base, hi: base + size - 1n };
}

const spanOfText = (text: string): Span | undefined => {
  const net = parseNetwork(text.replace(/%.*$/, '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1'));
  return net && spanOf(net);
};
const within = (inner: Span, outer: Span) => inner.v6 === outer.v6 && inner.lo >= outer.lo && inner.hi <= outer.hi;
const overlaps = (a: Span, b: Span) => a.v6 === b.v6 && a.lo <= b.hi && b.lo <= a.hi;

export interface NetGuard {
  /** Why `net` must not be banned or blocklisted, or undefined. */
  (net: Network, text?: string): BanRefusal | undefined;
}

/**
 * The facts parsed once; the returned check is then cheap per network. `trusted`: refuse an overlap with a trusted
 * net (ban), or let it be (a blocklist: its trusted part is accepted first, the rest of the network still counts).
 */
export function netGuard(facts: BanGuardFacts, opts: { readonly trusted: boolean }): NetGuard {
  const facts4 = (items: readonly { text: string; code: RefusalCode; reason: string; forceable?: boolean }[]) =>
    items.flatMap((i) => { const s = spanOfText(i.text); return s ? [{ ...i, span: s }] : []; });
  const inside = facts4([
    { text: '127.0.0.0/8', code: 'loopback', reason: 'it covers loopback (127.0.0.0/8)' },
    { text: '::1', code: 'loopback', reason: 'it covers the loopback address ::1' },
    ...facts.sessions.map((s) => ({ text: s.client, code: 'admin-session' as const, reason: `it contains the client of a live SSH session (${s.client})` })),
    ...facts.hostAddresses.map((a) => ({ text: a.address, code: 'own-address' as const, reason: `it contains this host's own address ${a.address} (${a.iface})` })),
    ...facts.adminSources.map((a) => ({ text: a, code: 'admin-source' as const, reason: `it contains a recent admin address (${a}, remembered from an SSH session in the last 30 days); --force bans it anyway`, forceable: true })),
  ]);
  const trusted = opts.trusted ? facts4(facts.trusted.map((t) => ({ text: t.net, code: 'trusted' as const, reason: `it overlaps ${t.key} (${t.net}), accepted before any ban: that part could never take effect` }))) : [];
  return (net, text) => {
    const span = spanOf(net);
    const ip = text ?? `${net.network}/${net.prefix}`;
    const hit = inside.find((f) => overlaps(f.span, span) && (within(f.span, span) || f.text === '127.0.0.0/8'))
      ?? trusted.find((f) => overlaps(f.span, span));
    return hit && { ip, code: hit.code, reason: hit.reason, forceable: hit.forceable ?? false };
  };
}
