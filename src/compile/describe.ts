/**
 * A rule in iptables' spelling ("-p tcp -m tcp --dport 22 -j ACCEPT"): how the seed, the docs and most admins write
 * rules, so messages (shadowed rules, the lock-out guard) use it whatever backend loads the ruleset. The iptables
 * backend renders with the same words, so what a message quotes is what iptables-save shows.
 */
import type { MarkerRole, Match, RateLimit, Rule, Target } from '../model.js';

/** One iptables rule of a plan rule: its matches, its target, and its marker's role where it is not the rule's own. */
export interface SpelledRule { readonly match: readonly string[]; readonly target: readonly string[]; readonly role?: MarkerRole }

/**
 * The iptables rules a plan rule is: one, or for a hit-rate limit (model.ts RateLimit) xt_recent's two, the seed's
 * own words: `--update --seconds S --hitcount N` DROP (a source with N hits in the last S seconds; a drop is a hit
 * too), then `--set` (every packet let past is a hit) with the rule's target. docs/backends.md measures them.
 */
export function spellRule(rule: Pick<Rule, 'match' | 'target'>): SpelledRule[] {
  const { rateLimit, ...m } = rule.match;
  if (rateLimit === undefined) return [{ match: matchArgs(m), target: targetArgs(rule.target) }];
  return [
    { match: matchArgs(m, recentArgs('--update', rateLimit)), target: targetArgs({ kind: 'DROP' }), role: 'limit' },
    { match: matchArgs(m, recentArgs('--set', { name: rateLimit.name })), target: targetArgs(rule.target) },
  ];
}

const recentArgs = (op: '--update' | '--set', r: Partial<RateLimit> & Pick<RateLimit, 'name'>) => [
  '-m', 'recent', op, ...(r.seconds === undefined ? [] : ['--seconds', String(r.seconds)]),
  ...(r.hits === undefined ? [] : ['--hitcount', String(r.hits)]), '--name', r.name, '--rsource',
];

const text = (r: SpelledRule) => [...r.match, ...r.target].join(' ');

/** The rule without chain and comment, for messages: "-s 192.0.2.0/24 -j ACCEPT"; a limiter's two, joined by "; ". */
export function describeRule(rule: Rule): string {
  return spellRule(rule).map(text).join('; ');
}

/** The rule's hit-rate drop alone (its `--update` rule), which the lock-out guard's caution quotes. */
export function describeLimit(rule: Rule): string {
  const spelled = spellRule(rule);
  return text(spelled.find((r) => r.role === 'limit') ?? spelled[0]!);
}

/** `recent`: xt_recent's words, where iptables-save puts them (after a set match, before -m limit). */
export function matchArgs(m: Match, recent: readonly string[] = []): string[] {
  const args: string[] = [];
  if (m.inIface) args.push('-i', m.inIface);
  if (m.outIface) args.push('-o', m.outIface);
  if (m.src) args.push(...(m.src.negate ? ['!'] : []), '-s', m.src.cidr);
  if (m.dst) args.push(...(m.dst.negate ? ['!'] : []), '-d', m.dst.cidr);
  if (m.proto) args.push('-p', m.proto);
  if (m.icmpType) args.push(...(m.proto === 'icmp' ? ['-m', 'icmp', '--icmp-type'] : ['-m', 'icmp6', '--icmpv6-type']), m.icmpType);
  if (m.dports?.length === 1 && m.proto) args.push('-m', m.proto, '--dport', m.dports[0]!);
  else if (m.dports && m.dports.length > 1) args.push('-m', 'multiport', '--dports', m.dports.join(','));
  if (m.ctstate) args.push('-m', 'conntrack', '--ctstate', m.ctstate.join(','));
  if (m.srcSet) args.push('-m', 'set', '--match-set', m.srcSet, 'src');
  args.push(...recent);
  if (m.limit) args.push('-m', 'limit', '--limit', m.limit.rate, '--limit-burst', String(m.limit.burst));
  return args;
}

export function targetArgs(t: Target): string[] {
  switch (t.kind) {
    case 'jump': return ['-j', t.chain];
    case 'LOG': return ['-j', 'LOG', '--log-prefix', `"${t.prefix} "`];
    case 'SNAT': return ['-j', 'SNAT', '--to-source', t.to];
    case 'DNAT': return ['-j', 'DNAT', '--to-destination', t.to];
    case 'CT': return ['-j', 'CT', '--helper', t.helper];
    case 'RAW': return [t.text];
    default: return ['-j', t.kind];
  }
}
