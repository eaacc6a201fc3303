/**
 * What each verb's design makes it wait on, as stages of programs for bench/lib/programs.ts: the floor no Node
 * implementation of that design can go below, whatever its own code costs. Mirrors src/apply/apply.ts (start,
 * reload) and src/cli/commands/status.ts; the generic program names are the ones the other contestants use.
 */
import type { Family, Plan } from '../../src/model.js';
import type { Stages } from './programs.js';
import { familyRestore } from './rulesets.js';

const CLI: Readonly<Record<Family, string>> = { ipv4: 'iptables', ipv6: 'ip6tables' };

/** The snapshot per family and the ban sets' listing: status's programs, and start's first stage. */
function reads(plan: Plan): Stages[number] {
  return [
    ...plan.rulesets.map((r) => ({ argv: [`${CLI[r.family]}-save`, '-c'] })),
    ...(plan.ipsets.length > 0 ? [{ argv: ['ipset', 'list', '-t'] }] : []),
  ];
}

/** start with its sets already there: reads, `--test` per family, then the load per family. */
export function startStages(plan: Plan): Stages {
  const restore = (test: boolean) => plan.rulesets.map((r) => ({
    argv: [`${CLI[r.family]}-restore`, '-w', '5', ...(test ? ['--test'] : [])],
    input: familyRestore(plan, r.family),
  }));
  return [reads(plan), restore(true), restore(false)];
}

export const statusStages = (plan: Plan): Stages => [reads(plan)];

export const programCount = (stages: Stages) => stages.reduce((n, s) => n + s.length, 0);
