/**
 * Whether what iptables holds is still the ruleset that was loaded (the record's plan, rendered here as start
 * rendered it): each built-in we filter still enters our chain, with no rule of someone else's before that jump
 * that can let a packet past it, and each chain of ours holds what was loaded into it and nothing else. Pure: it
 * reads the iptables-save output status has already parsed, and runs nothing.
 */
import { MARKER_TEXT, type Plan } from '../../model.js';
import { chainProblems, type Step } from '../../status/problems.js';
import type { LiveFamily, LiveRule, LiveState } from '../types.js';
import { JUMP_GROUP } from './ownership.js';
import { ownedRuleset } from './render.js';

const FAMILY_LABEL = { ipv4: 'IPv4', ipv6: 'IPv6' } as const;
const MARKED = new RegExp(`--comment "?${MARKER_TEXT}"?(?: |$)`);
/** The target, read with quoted strings blanked: a comment or log prefix may itself say " -j ". */
const TARGET = / -([jg]) (\S+)/;
const targetOf = (rule: string) => TARGET.exec(` ${rule.replace(/"[^"]*"/g, '""')}`);

/**
 * Targets after which the packet goes on through the chain or is gone: a rule with one of these before our jump
 * cannot let anything past our rules. ACCEPT can, RETURN from a built-in is its policy, and so can any target not
 * known here (NFQUEUE hands the verdict to a program).
 */
const NEVER_LETS_PAST = new Set(['DROP', 'REJECT', 'LOG', 'NFLOG', 'MARK', 'CONNMARK', 'CT', 'NOTRACK', 'TRACE', 'SET', 'TCPMSS']);

/**
 * Whether a rule in a built-in chain can end the packet's walk there with something other than a drop. A jump to
 * a user chain can when some rule in that chain can (its RETURN comes back, so it cannot); a goto can always (the
 * end of the chain it went to is the built-in's end).
 */
function letsPast(fam: LiveFamily, table: string, rule: LiveRule, seen: Set<string>): boolean {
  const t = targetOf(rule.rule);
  if (!t) return false;
  const [, kind, target] = t as unknown as [string, string, string];
  if (NEVER_LETS_PAST.has(target)) return false;
  const userChain = fam.chains.some((c) => c.table === table && c.name === target && c.policy === undefined);
  if (!userChain || kind === 'g') return true;
  if (seen.has(target)) return false;
  seen.add(target);
  return fam.rules.filter((r) => r.table === table && r.chain === target)
    .some((r) => targetOf(r.rule)?.[2] !== 'RETURN' && letsPast(fam, table, r, seen));
}

const renderedStep = (line: string): Step => {
  const group = MARKED.exec(line)?.[1];
  return { ...(group === undefined ? {} : { group }), does: targetOf(line)?.[2] ?? 'no target' };
};
const liveStep = (r: LiveRule): Step => ({ ...(r.group === undefined ? {} : { group: r.group }), does: targetOf(r.rule)?.[2] ?? 'no target', text: r.rule });

/** The seam's intact() for both iptables flavours (see FirewallBackend.intact). */
export function intactProblems(loaded: Pick<Plan, 'rulesets'>, live: LiveState): string[] {
  const out: string[] = [];
  for (const ruleset of loaded.rulesets) {
    const fam = live.families.get(ruleset.family) ?? { chains: [], rules: [] };
    for (const [table, owned] of ownedRuleset(ruleset)) {
      const where = (chain: string) => `${FAMILY_LABEL[ruleset.family]}${table === 'filter' ? '' : ` ${table}`} chain ${chain}`;
      const rulesOf = (chain: string) => fam.rules.filter((r) => r.table === table && r.chain === chain);
      const entered = new Set<string>();
      for (const entry of owned.entries) {
        const into = targetOf(entry.line)?.[2] ?? '';
        entered.add(into);
        const rules = rulesOf(entry.chain);
        const at = rules.findIndex((r) => r.group === JUMP_GROUP && targetOf(r.rule)?.[2] === into);
        if (at < 0) { out.push(`${where(entry.chain)}: our jump into ${into} is gone`); continue; }
        for (const r of rules.slice(0, at)) {
          if (r.group === undefined && letsPast(fam, table, r, new Set())) {
            out.push(`${where(entry.chain)}: a rule that is not ours comes before our jump into ${into}: ${r.rule}`);
          }
        }
      }
      for (const chain of owned.chains) {
        if (!fam.chains.some((c) => c.table === table && c.name === chain.name)) { out.push(`${where(chain.name)} is gone`); continue; }
        // A ban chain holds the ban daemon's entries and the boot marker nothing: there, whatever they hold. A
        // user chain the plan fills (the per-address unicast chain) is compared like ours.
        if (!entered.has(chain.name) && chain.lines.length === 0) continue;
        out.push(...chainProblems(where(chain.name), chain.lines.map(renderedStep), rulesOf(chain.name).map(liveStep)));
      }
    }
  }
  return out;
}
