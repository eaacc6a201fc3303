/**
 * One plan rule -> the nft rule line(s) that do the same in one family's regular chain, plus the sets and conntrack
 * helpers those lines need declared. Pure, and every piece of syntax comes from a table below.
 */
import { BAN_SET_MAXELEM } from '../../compile/plan.js';
import { markerOf, type Family, type IpsetSpec, type MarkerRole, type Match, type RateLimit, type Rule, type TableName, type Target } from '../../model.js';
import { BAN_CHAIN_PREFIX, FAMILY_WORDS, IDENT, banSet, familyChain, limiterSet } from './layout.js';

/** A set a rule needs declared: rules only refer to sets, and a reload must re-declare them as they are. */
export interface SetDecl {
  readonly name: string;
  readonly type: string;
  readonly flags: readonly string[];
  readonly size: number;
  /** The set's default timeout in seconds (limiter sets); ban elements carry their own. */
  readonly timeout?: number;
}

/** A conntrack helper object: `ct helper set` names one, and it must be declared in the same table. */
export interface HelperDecl { readonly name: string; readonly helper: string; readonly protocol: string }

/** What a rule's text depends on beyond the rule: the family (ip or ip6...), the plan table, the plan's sets. */
export interface RuleContext {
  readonly family: Family;
  readonly table: TableName;
  /** The plan's ban chains (chain mode): a jump to one becomes a lookup in that ban's set. */
  readonly banChains: ReadonlySet<string>;
  /** The plan's ipsets by name, for the size and type of the sets srcSet names. */
  readonly ipsets: ReadonlyMap<string, IpsetSpec>;
}

/** One plan rule's nft lines and the declarations they need, collected by render.ts across the plan. */
export interface RenderedRule {
  readonly lines: readonly string[];
  readonly sets: readonly SetDecl[];
  readonly helpers: readonly HelperDecl[];
}

/** Limiter sources are kept like xt_recent's table, but far more of them (xt_recent: 100, oldest evicted). */
export const LIMITER_SET_SIZE = 65_536;

/**
 * The window's per-source budget refills at nft's slowest rate, so within one window (up to a week) it never
 * grows back: a source gets `hitcount` new connections per window, not a token bucket's steady trickle.
 */
const WINDOW_REFILL = '1/week';

/** nft strings cannot hold a quote or a backslash; config validation already keeps them out of prefixes. */
export function quoted(text: string): string {
  if (/["\\\n]/.test(text)) throw new Error(`cannot put ${JSON.stringify(text)} in an nft string`);
  return `"${text}"`;
}

/** Names go into the document unquoted: anything that is not a plain identifier would change its meaning. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`"${name}" is not an nft identifier`);
  return name;
}

/** Host prefixes are dropped, as nft prints them, so rendered and listed rules read the same. */
const address = (cidr: string) => cidr.replace(/\/(32|128)$/, '');
const ports = (dports: readonly string[]) => {
  const list = dports.map((p) => p.replace(':', '-'));
  return list.length === 1 ? list[0]! : `{ ${list.join(', ')} }`;
};
/** The names nft 1.0.6 prints for ICMPv6 types (others it prints as numbers, and reads either way). */
const ICMPV6_NAMES: Readonly<Record<string, string>> = {
  1: 'destination-unreachable', 2: 'packet-too-big', 3: 'time-exceeded', 4: 'parameter-problem', 128: 'echo-request',
  130: 'mld-listener-query', 131: 'mld-listener-report', 132: 'mld-listener-done', 133: 'nd-router-solicit',
  134: 'nd-router-advert', 135: 'nd-neighbor-solicit', 136: 'nd-neighbor-advert', 141: 'ind-neighbor-solicit',
  142: 'ind-neighbor-advert', 143: 'mld2-listener-report',
};
const icmpType = (family: Family, type: string) => (family === 'ipv6' ? ICMPV6_NAMES[type] ?? type : type);

/** The protocol part: `tcp dport 22`, `icmp type echo-request` or a bare `meta l4proto udp`. */
function protoWords(m: Match, family: Family): string[] {
  if (!m.proto) return [];
  if (m.icmpType !== undefined) return [`${FAMILY_WORDS[family].icmp} type ${icmpType(family, m.icmpType)}`];
  if (m.dports?.length && (m.proto === 'tcp' || m.proto === 'udp')) return [`${m.proto} dport ${ports(m.dports)}`];
  return [`meta l4proto ${m.proto}`];
}

/** iptables' conntrack states are two things in nft: `ct state` (new, established...) and `ct status` (dnat). */
function ctWords(states: Match['ctstate']): string[] {
  const status = (states ?? []).filter((s) => s === 'DNAT');
  const state = (states ?? []).filter((s) => s !== 'DNAT');
  return [
    ...(state.length > 0 ? [`ct state ${state.map((s) => s.toLowerCase()).join(',')}`] : []),
    ...(status.length > 0 ? [`ct status ${status.map((s) => s.toLowerCase()).join(',')}`] : []),
  ];
}

/** The matches every rule shares, in the order iptables evaluates them (the limit last, as -m limit is). */
function matchWords(m: Match, family: Family): string[] {
  const ip = FAMILY_WORDS[family].ip;
  const addr = (dir: 'saddr' | 'daddr', a: Match['src']) => (a ? [`${ip} ${dir} ${a.negate ? '!= ' : ''}${address(a.cidr)}`] : []);
  return [
    ...(m.inIface ? [`iifname ${quoted(m.inIface)}`] : []),
    ...(m.outIface ? [`oifname ${quoted(m.outIface)}`] : []),
    ...addr('saddr', m.src),
    ...addr('daddr', m.dst),
    ...protoWords(m, family),
    ...ctWords(m.ctstate),
    ...(m.srcSet ? [`${ip} saddr @${ident(m.srcSet)}`] : []),
    ...(m.limit ? [`limit rate ${m.limit.rate} burst ${m.limit.burst} packets`] : []),
  ];
}

const helperName = (helper: string, protocol: string) => ident(`${helper}-${protocol}`);

const TARGETS: { readonly [K in Target['kind']]: (t: Extract<Target, { kind: K }>, ctx: RuleContext, m: Match) => string } = {
  ACCEPT: () => 'accept',
  DROP: () => 'drop',
  RETURN: () => 'return',
  jump: (t, ctx) => `jump ${ident(familyChain(ctx.table, t.chain, ctx.family))}`,
  LOG: (t) => `log prefix ${quoted(`${t.prefix} `)}`,
  SNAT: (t, ctx) => `snat ${FAMILY_WORDS[ctx.family].ip} to ${t.to}`,
  MASQUERADE: () => 'masquerade',
  DNAT: (t, ctx) => `dnat ${FAMILY_WORDS[ctx.family].ip} to ${t.to}`,
  CT: (t, _ctx, m) => `ct helper set ${quoted(helperName(t.helper, m.proto ?? 'tcp'))}`,
  RAW: (t) => t.text,
};
const targetWords = (t: Target, ctx: RuleContext, m: Match) => (TARGETS[t.kind] as (t: Target, c: RuleContext, m: Match) => string)(t, ctx, m);

const line = (words: readonly string[], verdict: string, rule: Rule, role?: MarkerRole) =>
  [...words, 'counter', verdict, `comment ${quoted(markerOf(rule, role))}`].join(' ');

const addrSet = (name: string, family: Family, spec?: IpsetSpec): SetDecl => ({
  name,
  type: FAMILY_WORDS[family].addrType,
  flags: spec?.type === 'hash:net' ? ['interval', 'timeout'] : ['timeout'],
  size: spec?.maxelem ?? BAN_SET_MAXELEM,
});

/**
 * A hit-rate limit (model.ts RateLimit) as two drops before the rule's own line: a source being held stays out (and
 * each attempt renews its hold), and the (N+1)th packet of a window is dropped and starts the hold; what gets past
 * both takes the rule's target. Measured against xt_recent in docs/backends.md. Only the window's elements count
 * (its hits): a lookup also bumps an element's counter, so a held one would count each attempt twice.
 */
function limiterLines(rule: Rule, limit: RateLimit, ctx: RuleContext, words: readonly string[]): RenderedRule {
  const ip = FAMILY_WORDS[ctx.family].ip;
  const window = ident(limiterSet('window', limit.name, ctx.family));
  const held = ident(limiterSet('held', limit.name, ctx.family));
  const set = (name: string): SetDecl => ({
    name, type: FAMILY_WORDS[ctx.family].addrType, flags: ['dynamic', 'timeout'], size: LIMITER_SET_SIZE, timeout: limit.seconds,
  });
  const budget = `limit rate over ${WINDOW_REFILL} burst ${limit.hits} packets`;
  return {
    lines: [
      line([...words, `${ip} saddr @${held}`, `update @${held} { ${ip} saddr }`], 'drop', rule, 'limit'),
      line([...words, `add @${window} { ${ip} saddr counter ${budget} }`, `add @${held} { ${ip} saddr }`], 'drop', rule, 'limit'),
    ],
    sets: [set(window), set(held)],
    helpers: [],
  };
}

/**
 * Every line counts (status shows each rule's counters) and carries the rule's marker (model.ts markerOf; status groups by it,
 * and it is how "loaded" is recognised).
 */
export function renderRule(rule: Rule, ctx: RuleContext): RenderedRule {
  const m = rule.match;
  const words = matchWords(m, ctx.family);
  const t = rule.target;
  // A snippet's rule is the admin's whole rule (its own counter, if it wants one); only the marker is added.
  if (t.kind === 'RAW') return { lines: [`${t.text} comment ${quoted(markerOf(rule))}`], sets: [], helpers: [] };
  const banJump = t.kind === 'jump' && ctx.banChains.has(t.chain) ? t.chain : undefined;
  if (banJump !== undefined) {
    // Chain mode keeps the seed's per-service chain on iptables; here its bans are the same set ipset mode uses.
    const name = banSet(banJump.slice(BAN_CHAIN_PREFIX.length), ctx.family);
    const ip = FAMILY_WORDS[ctx.family].ip;
    return { lines: [line([...words, `${ip} saddr @${ident(name)}`], 'drop', rule)], sets: [addrSet(name, ctx.family)], helpers: [] };
  }
  const verdict = targetWords(t, ctx, m);
  const limited = m.rateLimit === undefined ? undefined : limiterLines(rule, m.rateLimit, ctx, words);
  const sets = [...(limited?.sets ?? []), ...(m.srcSet ? [addrSet(m.srcSet, ctx.family, ctx.ipsets.get(m.srcSet))] : [])];
  const helpers = t.kind === 'CT' ? [{ name: helperName(t.helper, m.proto ?? 'tcp'), helper: t.helper, protocol: m.proto ?? 'tcp' }] : [];
  return { lines: [...(limited?.lines ?? []), line(words, verdict, rule)], sets, helpers };
}
