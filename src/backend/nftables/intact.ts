/**
 * Whether `table inet tsfirewall` still holds the ruleset that was loaded (the record's plan, laid out as render
 * lays it out): each base chain with its one dispatch rule, each family chain with what was loaded into it, and
 * nothing else in the table. Pure: it reads the `nft -j list table` status has already parsed, and runs nothing.
 * Only our table is compared: another table's accept cannot let in what ours drops.
 */
import { parseMarker, type Plan } from '../../model.js';
import { chainProblems, type Step } from '../../status/problems.js';
import type { LiveState } from '../types.js';
import { BAN_CHAIN_PREFIX, TABLE_REF } from './layout.js';
import type { TableChains } from './parse.js';
import { layoutOf } from './render.js';

const COMMENT = /comment "([^"]*)"$/;
/** A rendered rule's action: what follows its counter (the last one: a limiter's set element has its own). */
const ACTION = /^.*(?:^| )counter (.*?)(?: comment "[^"]*")?$/;

/** What a rendered line does, in doesOf()'s words: "drop", "jump input4", "log", "ct helper". */
function renderedStep(line: string): Step {
  const group = parseMarker(COMMENT.exec(line)?.[1] ?? '')?.group;
  const [word = 'nothing', target] = (ACTION.exec(line)?.[1] ?? '').split(' ');
  const does = word === 'jump' || word === 'goto' ? `${word} ${target}` : word === 'ct' ? 'ct helper' : word;
  return group === undefined ? { does } : { group, does };
}

/**
 * A snippet's rule has no counter of ours to find its verdict behind, and is the admin's to word: it is held to
 * being there, in its place, not to what it ends in.
 */
const SNIPPET_STEP = 'its own verdict';
const asLoaded = (s: Step): Step => (s.group === 'snippet' ? { ...s, does: SNIPPET_STEP } : s);

/** The plan chains that hold the ban daemon's entries on iptables (chain mode) are ban sets here. */
const banChainsOf = (loaded: Pick<Plan, 'rulesets'>) => [...new Set(loaded.rulesets.flatMap((r) => r.tables.flatMap((t) =>
  t.chains.filter((c) => c.policy === undefined && c.name.startsWith(BAN_CHAIN_PREFIX)).map((c) => c.name))))];

/** The seam's intact() for nftables (see FirewallBackend.intact). */
export function intactProblems(loaded: Pick<Plan, 'rulesets'>, live: LiveState): string[] {
  const table = live.data as TableChains | undefined;
  if (!table) return [`table ${TABLE_REF} is gone`];
  const layout = layoutOf({ rulesets: loaded.rulesets, ipsets: [], banChains: banChainsOf(loaded) });
  const held = new Map(table.chains.map((c) => [c.name, c] as const));
  const out: string[] = [];
  for (const chain of layout.chains) {
    const h = held.get(chain.name);
    if (!h) { out.push(`chain ${chain.name} is gone`); continue; }
    if (chain.hook) {
      // A base chain holds one rule, the dispatch to the family chains; anything else there filters first.
      const dispatch = chain.lines[0]!;
      const at = h.rules.findIndex((r) => r.group === undefined && r.text === dispatch);
      if (at < 0) out.push(`chain ${chain.name}: the dispatch (${dispatch}) is gone`);
      for (const r of h.rules.filter((_, i) => i !== at)) out.push(`chain ${chain.name}: a rule that is not ours: ${r.text ?? r.does}`);
      continue;
    }
    // The boot marker's presence is its message; every family chain has at least its final verdict.
    if (chain.lines.length === 0) continue;
    out.push(...chainProblems(`chain ${chain.name}`, chain.lines.map(renderedStep).map(asLoaded), h.rules.map(asLoaded)));
  }
  const laidOut = new Set(layout.chains.map((c) => c.name));
  for (const h of table.chains.filter((c) => !laidOut.has(c.name))) {
    out.push(`chain ${h.name} in table ${TABLE_REF} is not ours${h.base ? ' (a base chain: it filters on its own)' : ''}`);
  }
  return out;
}
