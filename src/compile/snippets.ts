/**
 * Places the raw snippets (config/snippets.ts) in the compiled rulesets, as rules of group `snippet` whose origin
 * names the file and line. `before` goes just before a filter chain's service rules, `after` just after them (both
 * before the log of what the policy drops and the policy itself, and in a chain with no service rules at its end,
 * `before` first); `nat` and `raw` go at the end of that table's chain, creating the table when the plan has none.
 * Only snippets in the chosen backend's language are placed: the others are named in a warning.
 */
import type { Config } from '../config/types.js';
import { POINT_CHAINS, type Snippet } from '../config/snippets.js';
import type { Rule, Ruleset, Table, TableName } from '../model.js';

/** The built-in chains of a table the plan did not have until a snippet asked for it. */
const NEW_TABLE_CHAINS: Readonly<Partial<Record<TableName, readonly string[]>>> = {
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
};

const EXTENSION = { nft: '.nft', iptables: '.rules or .rules6' } as const;

/** Where in `rules` a point's rules for `chain` go (see the module comment). */
function insertionIndex(rules: readonly Rule[], chain: string, point: Snippet['point']): number {
  const inChain = (r: Rule) => r.chain === chain;
  const services = rules.flatMap((r, i) => (inChain(r) && r.group === 'services' ? [i] : []));
  if (point === 'before' && services.length > 0) return services[0]!;
  if (point === 'after' && services.length > 0) return services[services.length - 1]! + 1;
  // No service rules: before the trailing log and the policy, or at the chain's end.
  const tail = rules.findIndex((r) => inChain(r) && r.group === 'dropped');
  if (tail >= 0) return tail;
  const last = rules.map(inChain).lastIndexOf(true);
  return last >= 0 ? last + 1 : rules.length;
}

function snippetRules(s: Snippet): Rule[] {
  return s.rules.map((r) => ({ chain: r.chain, group: 'snippet', match: {}, target: { kind: 'RAW', text: r.text }, origin: `${s.name}:${r.line}` }));
}

function place(ruleset: Ruleset, snippets: readonly Snippet[]): Ruleset {
  let tables: Table[] = [...ruleset.tables];
  for (const s of snippets) {
    const name = POINT_CHAINS[s.point].table;
    let table = tables.find((t) => t.name === name);
    if (!table) {
      table = { name, chains: (NEW_TABLE_CHAINS[name] ?? []).map((c) => ({ name: c, policy: 'ACCEPT' as const })), rules: [] };
      tables = [...tables, table];
    }
    let rules = [...table.rules];
    for (const chain of [...new Set(s.rules.map((r) => r.chain))]) {
      const at = insertionIndex(rules, chain, s.point);
      rules = [...rules.slice(0, at), ...snippetRules(s).filter((r) => r.chain === chain), ...rules.slice(at)];
    }
    const placed: Table = { ...table, rules };
    tables = tables.map((t) => (t.name === name ? placed : t));
  }
  return { ...ruleset, tables };
}

/** The rulesets with the snippets for this backend in place, and a warning for each snippet left out. */
export function withSnippets(rulesets: readonly Ruleset[], config: Pick<Config, 'snippets' | 'snippetSyntax' | 'ipv6'>): { rulesets: Ruleset[]; warnings: string[] } {
  const syntax = config.snippetSyntax;
  if (syntax === undefined || config.snippets.length === 0) return { rulesets: [...rulesets], warnings: [] };
  const warnings = config.snippets.filter((s) => s.syntax !== syntax)
    .map((s) => `${s.file}: a ${s.syntax} snippet, but this backend loads ${EXTENSION[syntax]} snippets; left out`);
  const ours = config.snippets.filter((s) => s.syntax === syntax && s.rules.length > 0);
  const families = new Set(rulesets.map((r) => r.family));
  for (const s of ours.filter((x) => x.family !== undefined && !families.has(x.family))) {
    warnings.push(`${s.file}: IPv6 rules, but IPV6=${config.ipv6} loads no IPv6 ruleset; left out`);
  }
  return {
    rulesets: rulesets.map((rs) => place(rs, ours.filter((s) => s.family === undefined || s.family === rs.family))),
    warnings,
  };
}
