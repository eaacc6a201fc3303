/**
 * Records of the loaded plan (loaded.ts) written before the hit-rate limiter was one rule of the plan (model.ts
 * RateLimit) hold xt_recent's two in its place: an `--update` DROP and a `--set` rule with the same match. Read back
 * as the one rule they mean, the record of an unchanged config is what start compiles now, so an upgrade alone does
 * not make status say "pending", `reload --if-changed` reload or diff show the limiter changed, and intact() holds
 * the kernel to the lines each backend renders for it (the same lines as before). Pure.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The record's rules text with each such pair made one rule; text without xt_recent's ops is returned as it is. */
export function foldRecentPairs(rules: string): string {
  if (!rules.includes('"recent"')) return rules;
  try {
    const record = JSON.parse(rules) as Json;
    if (!isObj(record) || !Array.isArray(record.rulesets)) return rules;
    for (const ruleset of record.rulesets) {
      if (!isObj(ruleset) || !Array.isArray(ruleset.tables)) continue;
      for (const table of ruleset.tables) if (isObj(table) && Array.isArray(table.rules)) table.rules = folded(table.rules);
    }
    return JSON.stringify(record);
  } catch {
    return rules;
  }
}

/** Pure, on a plan's rules as JSON: each `--update` DROP followed by its `--set` rule becomes the one rule. */
export function folded(rules: readonly Json[]): Json[] {
  const out: Json[] = [];
  for (let i = 0; i < rules.length; i++) {
    const one = pair(rules[i], rules[i + 1]);
    if (one === undefined) { out.push(rules[i]!); continue; }
    out.push(one);
    i++;
  }
  return out;
}

const recentOf = (rule: Json | undefined) => (isObj(rule) && isObj(rule.match) && isObj(rule.match.recent) ? rule.match.recent : undefined);
const without = (match: Obj): Obj => Object.fromEntries(Object.entries(match).filter(([k]) => k !== 'recent'));
const same = (a: Json | undefined, b: Json | undefined) => JSON.stringify(a) === JSON.stringify(b);

/** The one rule an update-DROP and the set rule after it were, in the key order compile gives it; else undefined. */
function pair(update: Json | undefined, set: Json | undefined): Obj | undefined {
  const u = recentOf(update);
  const s = recentOf(set);
  if (!u || !s || u.op !== 'update' || s.op !== 'set' || u.name !== s.name || typeof u.name !== 'string') return undefined;
  if (typeof u.seconds !== 'number' || typeof u.hitcount !== 'number') return undefined;
  const [a, b] = [update as Obj, set as Obj];
  if (!isObj(a.target) || a.target.kind !== 'DROP' || a.chain !== b.chain || a.group !== b.group || a.service !== b.service) return undefined;
  const base = without(b.match as Obj);
  if (!same(without(a.match as Obj), base)) return undefined;
  return { ...b, match: { ...base, rateLimit: { name: u.name, hits: u.hitcount, seconds: u.seconds } } };
}
