/**
 * Ruleset -> iptables-restore text: one document per address family, loaded in a single atomic call.
 * Each rule carries a "tsfw:<group>" comment, which is how status groups rules and how stop/status recognise
 * that the kernel holds our ruleset.
 */
import { matchArgs, targetArgs } from '../../compile/describe.js';
import { MARK, type Rule, type Ruleset, type Table } from '../../model.js';

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
