/**
 * Ruleset -> what tsfirewall owns in iptables (ownership.ts): each built-in chain's rules go into our own chain
 * (INPUT -> tsfw-input), which a marked jump at the top of the built-in enters and, for a DROP policy, a final
 * marked DROP ends, so the built-in policies other tools rely on are never changed. Each rule carries a
 * "tsfw:<group>" comment, which is how status groups rules and recognises our ruleset.
 */
import { spellRule } from '../../compile/describe.js';
import { MARK, markerOf, type Rule, type Ruleset, type Table } from '../../model.js';
import { jumpLine, ownChain, transition, type Owned, type OwnedTable } from './ownership.js';

export const POLICY_GROUP = 'policy';

const builtins = (table: Table) => new Set(table.chains.filter((c) => c.policy !== undefined).map((c) => c.name));

/** A plan rule's lines in `chain`: one, or a hit-rate limit's two (describe.ts spellRule), each with its marker. */
export function renderRule(rule: Rule, chain = rule.chain): string[] {
  return spellRule(rule).map((r) => ['-A', chain, ...r.match, '-m', 'comment', '--comment', markerOf(rule, r.role), ...r.target].join(' '));
}

/**
 * One table's part, with `carried` lines for chains whose entries belong to the ban daemon (a reload keeps them);
 * a user chain the plan fills (the per-address "not addressed to me" chain) holds its rules. A built-in with no
 * rules and an ACCEPT policy gets no chain of ours at all.
 */
export function ownedTable(table: Table, carried: ReadonlyMap<string, readonly string[]> = new Map()): OwnedTable {
  const builtin = builtins(table);
  const chains = table.chains.map((c) => {
    if (!builtin.has(c.name)) {
      return { name: c.name, lines: [...table.rules.filter((r) => r.chain === c.name).flatMap((r) => renderRule(r)), ...(carried.get(c.name) ?? [])] };
    }
    const own = ownChain(c.name);
    const lines = table.rules.filter((r) => r.chain === c.name).flatMap((r) => renderRule(r, own));
    if (c.policy === 'DROP') lines.push(`-A ${own} -m comment --comment ${MARK}:${POLICY_GROUP} -j DROP`);
    return { name: own, lines, builtin: c.name };
  }).filter((c) => !('builtin' in c) || c.lines.length > 0);
  return {
    chains: chains.map(({ name, lines }) => ({ name, lines })),
    entries: chains.flatMap((c) => ('builtin' in c ? [{ chain: c.builtin as string, line: jumpLine(c.builtin as string) }] : [])),
    policies: new Map(),
  };
}

/** Everything of one family's ruleset we want to own. */
export function ownedRuleset(ruleset: Ruleset, carried?: ReadonlyMap<string, readonly string[]>): Owned {
  return new Map(ruleset.tables.map((t) => [t.name, ownedTable(t, carried)] as const));
}

/** The document that loads the ruleset where nothing of ours is yet (golden files, check, the sandbox). */
export function renderRuleset(ruleset: Ruleset): string {
  return transition([], ownedRuleset(ruleset));
}
