/**
 * Two plans rule by rule: what a reload would add, remove or change in each chain, in the model's terms, so both
 * sides read the same whatever backend prints them. Rules are lined up by their longest common run (a rule that
 * stays put is never reported), and what is left between two kept rules pairs up as "changed" when it is the same
 * group doing the same thing (a port moved, a net edited). A DROP policy counts as the chain's last rule, as both
 * backends load it. Pure.
 */
import type { Family, Plan, Rule, TableName } from '../model.js';

export interface RuleChange {
  readonly family: Family;
  readonly table: TableName;
  readonly chain: string;
  readonly group: string;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly before?: Rule;
  readonly after?: Rule;
}

type Rulesets = Pick<Plan, 'rulesets'>;

/** JSON with sorted keys: a rule read back from a record and one compiled now compare equal when they are. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export const ruleKey = (r: Rule) => canonical([r.group, r.match, r.target]);

/** Every chain's rules, keyed "family table chain", with each DROP policy as a final rule of group policy. */
function chainsOf(plan: Rulesets): Map<string, { family: Family; table: TableName; chain: string; rules: Rule[] }> {
  const out = new Map<string, { family: Family; table: TableName; chain: string; rules: Rule[] }>();
  for (const rs of plan.rulesets) {
    for (const t of rs.tables) {
      const names = [...new Set([...t.chains.map((c) => c.name), ...t.rules.map((r) => r.chain)])];
      for (const chain of names) {
        const policy = t.chains.find((c) => c.name === chain)?.policy;
        const rules = [...t.rules.filter((r) => r.chain === chain),
          ...(policy === 'DROP' ? [{ chain, group: 'policy', match: {}, target: { kind: 'DROP' } } satisfies Rule] : [])];
        out.set(`${rs.family} ${t.name} ${chain}`, { family: rs.family, table: t.name, chain, rules });
      }
    }
  }
  return out;
}

/** Index pairs (i in a, j in b) of a longest common subsequence of the two key lists. */
function commonRun(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const len = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) len[i]![j] = a[i] === b[j] ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
  }
  const pairs: [number, number][] = [];
  for (let i = 0, j = 0; i < n && j < m;) {
    if (a[i] === b[j]) { pairs.push([i, j]); i++; j++; } else if (len[i + 1]![j]! >= len[i]![j + 1]!) i++; else j++;
  }
  return pairs;
}

/**
 * The rules between two kept ones: same group and same kind of target pair up as changed. Removals that pair with
 * nothing come first, then the new rules in their own order, so the report follows the talk's order.
 */
function gapChanges(place: Omit<RuleChange, 'group' | 'kind'>, removed: readonly Rule[], added: readonly Rule[]): RuleChange[] {
  const left = [...removed];
  const pairs = added.map((after) => {
    const at = left.findIndex((b) => b.group === after.group && b.target.kind === after.target.kind);
    return { after, before: at < 0 ? undefined : left.splice(at, 1)[0] };
  });
  return [
    ...left.map((before): RuleChange => ({ ...place, group: before.group, kind: 'removed', before })),
    ...pairs.map(({ after, before }): RuleChange => (before
      ? { ...place, group: after.group, kind: 'changed', before, after } : { ...place, group: after.group, kind: 'added', after })),
  ];
}

/** What loading `next` over `loaded` changes, chain by chain in the plans' order. */
export function diffPlans(loaded: Rulesets, next: Rulesets): RuleChange[] {
  const before = chainsOf(loaded);
  const after = chainsOf(next);
  const out: RuleChange[] = [];
  for (const key of [...new Set([...after.keys(), ...before.keys()])]) {
    const b = before.get(key);
    const a = after.get(key);
    const place = { family: (a ?? b)!.family, table: (a ?? b)!.table, chain: (a ?? b)!.chain };
    const old = b?.rules ?? [];
    const now = a?.rules ?? [];
    const pairs = [...commonRun(old.map(ruleKey), now.map(ruleKey)), [old.length, now.length] as [number, number]];
    let i = 0;
    let j = 0;
    for (const [pi, pj] of pairs) {
      out.push(...gapChanges(place, old.slice(i, pi), now.slice(j, pj)));
      i = pi + 1;
      j = pj + 1;
    }
  }
  return out;
}
