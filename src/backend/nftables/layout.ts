/**
 * Where the plan's pieces live inside our one `table inet tsfirewall`: the names and hooks that render writes and
 * parse reads back, as data, so the two can never disagree. See docs/backends.md for the kernel facts behind them.
 */
import type { Family, Group, Rule, TableName } from '../../model.js';

/** Everything tsfirewall owns is in this one table: stop is a single `delete table`, and nobody else's rules move. */
export const TABLE = 'tsfirewall';
/** How every nft command names it: the inet family holds both IPv4 and IPv6 rules in one table. */
export const TABLE_REF = `inet ${TABLE}`;

/** The family suffix of the regular chains a base chain dispatches to (input4, input6...). */
export const SUFFIX: Readonly<Record<Family, string>> = { ipv4: '4', ipv6: '6' };

/** Per-family spellings: the address keyword, set type and ICMP protocol in nft's own words. */
export const FAMILY_WORDS: Readonly<Record<Family, { readonly ip: string; readonly addrType: string; readonly icmp: string }>> = {
  ipv4: { ip: 'ip', addrType: 'ipv4_addr', icmp: 'icmp' },
  ipv6: { ip: 'ip6', addrType: 'ipv6_addr', icmp: 'icmpv6' },
};

/** A base chain's place in the kernel: what the plan calls it and what nft needs to hook it in. */
export interface Hook {
  readonly table: TableName;
  readonly chain: string;
  /** The base chain's name in our table; the per-family regular chains add SUFFIX. */
  readonly base: string;
  readonly type: 'filter' | 'nat';
  readonly hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  /** nft's keyword where it has one, and the number it stands for (what `nft -j` reports). */
  readonly priority: string;
  readonly prio: number;
  /** This hook takes only the plan chain's rules of this group, and the chain's other hook the rest. */
  readonly only?: Group;
}

/**
 * The plan's built-in chains and the base chain each becomes. The raw table's chains hold only conntrack-helper
 * rules, and `ct helper set` needs the conntrack entry, which exists only after priority -200: at raw (-300) the
 * helper is silently not attached (measured), so they hook in at priority filter.
 */
export const HOOKS: readonly Hook[] = [
  { table: 'filter', chain: 'INPUT', base: 'input', type: 'filter', hook: 'input', priority: 'filter', prio: 0 },
  { table: 'filter', chain: 'FORWARD', base: 'forward', type: 'filter', hook: 'forward', priority: 'filter', prio: 0 },
  { table: 'filter', chain: 'OUTPUT', base: 'output', type: 'filter', hook: 'output', priority: 'filter', prio: 0 },
  { table: 'nat', chain: 'PREROUTING', base: 'dstnat', type: 'nat', hook: 'prerouting', priority: 'dstnat', prio: -100 },
  { table: 'nat', chain: 'INPUT', base: 'nat-input', type: 'nat', hook: 'input', priority: '100', prio: 100 },
  { table: 'nat', chain: 'OUTPUT', base: 'nat-output', type: 'nat', hook: 'output', priority: '-100', prio: -100 },
  { table: 'nat', chain: 'POSTROUTING', base: 'srcnat', type: 'nat', hook: 'postrouting', priority: 'srcnat', prio: 100 },
  { table: 'raw', chain: 'PREROUTING', base: 'helpers', type: 'filter', hook: 'prerouting', priority: 'filter', prio: 0 },
  { table: 'raw', chain: 'OUTPUT', base: 'helpers-out', type: 'filter', hook: 'output', priority: 'filter', prio: 0 },
  // A raw snippet's rules (notrack...) must come before conntrack, as iptables' raw table does.
  { table: 'raw', chain: 'PREROUTING', base: 'raw-prerouting', type: 'filter', hook: 'prerouting', priority: 'raw', prio: -300, only: 'snippet' },
  { table: 'raw', chain: 'OUTPUT', base: 'raw-output', type: 'filter', hook: 'output', priority: 'raw', prio: -300, only: 'snippet' },
];

/** Whether a plan rule goes into this hook's chains (a chain split over two hooks gives each its groups). */
export const takes = (hook: Hook, rule: Rule): boolean => rule.chain === hook.chain &&
  (hook.only !== undefined ? rule.group === hook.only
    : !HOOKS.some((h) => h.only === rule.group && h.table === hook.table && h.chain === hook.chain));

/** The hook a plan chain becomes; undefined for a user chain (the boot marker, a ban chain). */
export const hookOf = (table: TableName, chain: string): Hook | undefined =>
  HOOKS.find((h) => h.table === table && h.chain === chain);

/** A plan chain's regular chain for one family: input4, srcnat4, or a user chain's name plus the suffix. */
export const familyChain = (table: TableName, chain: string, family: Family): string =>
  `${hookOf(table, chain)?.base ?? chain}${SUFFIX[family]}`;

/**
 * The comment of the last rule of every family chain: it carries the plan's policy as its verdict (the base chains
 * are all policy accept, so a family absent from the plan passes untouched) and its counters are the chain's.
 */
export const POLICY_GROUP = 'policy';

/** The plan's ban chains (chain mode, an iptables notion) are fail2ban-NAME; on nftables their bans are sets too. */
export const BAN_CHAIN_PREFIX = 'fail2ban-';

/** Ban set names, as compile's banSetName spells them for ipset mode. */
export const banSet = (name: string, family: Family) => `${family === 'ipv4' ? 'f2b-' : 'f2b6-'}${name}`;

/**
 * The hit-rate limiter's two sets per name and family: `window` counts a source's new connections in a fixed
 * window from its first one, `held` keeps a source that went over out until it stays quiet for the window's length.
 */
export const LIMITER_SETS: Readonly<Record<'window' | 'held', Readonly<Record<Family, string>>>> = {
  window: { ipv4: 'rl-', ipv6: 'rl6-' },
  held: { ipv4: 'rlheld-', ipv6: 'rlheld6-' },
};
/** One limiter set's name: the rate name from the config behind the kind's and family's prefix. */
export const limiterSet = (kind: 'window' | 'held', name: string, family: Family) => `${LIMITER_SETS[kind][family]}${name}`;

/** nft's identifiers in unquoted position; our names come from config tokens ([A-Za-z0-9_-]) behind a prefix. */
export const IDENT = /^[A-Za-z][A-Za-z0-9_-]{0,254}$/;
