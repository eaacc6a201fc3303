/**
 * Ruleset -> iptables-restore text: one document per address family, loaded in a single atomic call.
 * Each rule carries a "tsfw:<group>" comment, which is how status groups rules and how stop/status recognise
 * that the kernel holds our ruleset.
 */
import { MARK, type Match, type Rule, type Ruleset, type Table, type Target } from '../model.js';

export function renderRuleset(ruleset: Ruleset): string {
  return ruleset.tables.map(renderTable).join('');
}

export function renderTable(table: Table): string {
  const lines = [`*${table.name}`];
  for (const chain of table.chains) lines.push(`:${chain.name} ${chain.policy ?? '-'} [0:0]`);
  for (const rule of table.rules) lines.push(renderRule(rule));
  lines.push('COMMIT', '');
  return lines.join('\n');
}

export function renderRule(rule: Rule): string {
  return ['-A', rule.chain, ...matchArgs(rule.match), '-m', 'comment', '--comment', `${MARK}:${rule.group}`, ...targetArgs(rule.target)].join(' ');
}

/** The rule without chain and comment, for messages: "-s 192.0.2.0/24 -j ACCEPT". */
export function describeRule(rule: Rule): string {
  return [...matchArgs(rule.match), ...targetArgs(rule.target)].join(' ');
}

function matchArgs(m: Match): string[] {
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
  if (m.recent) {
    const r = m.recent;
    args.push('-m', 'recent', r.op === 'set' ? '--set' : '--update');
    if (r.seconds !== undefined) args.push('--seconds', String(r.seconds));
    if (r.hitcount !== undefined) args.push('--hitcount', String(r.hitcount));
    args.push('--name', r.name, '--rsource');
  }
  if (m.limit) args.push('-m', 'limit', '--limit', m.limit.rate, '--limit-burst', String(m.limit.burst));
  return args;
}

function targetArgs(t: Target): string[] {
  switch (t.kind) {
    case 'jump': return ['-j', t.chain];
    case 'LOG': return ['-j', 'LOG', '--log-prefix', `"${t.prefix} "`];
    case 'SNAT': return ['-j', 'SNAT', '--to-source', t.to];
    case 'CT': return ['-j', 'CT', '--helper', t.helper];
    default: return ['-j', t.kind];
  }
}
