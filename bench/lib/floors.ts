/**
 * What each verb's design makes it wait on, as stages of programs for bench/lib/programs.ts: the floor no Node
 * implementation of that design can go below, whatever its own code costs. Mirrors src/apply/apply.ts (start,
 * reload) and src/cli/commands/status.ts; the generic program names are the ones the other contestants use.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../../src/model.js';
import type { BenchLab } from './lab.js';
import type { Agent } from './ns.js';
import type { Stages } from './programs.js';
import { ms, times, type Row } from './results.js';
import { timed, type Contestant } from './rounds.js';
import { familyRestore, GENERIC_CLI } from './rulesets.js';
import { pairedRatios, summarize } from './stats.js';

/** The snapshot per family and the ban sets' listing: status's programs, and start's first stage. */
function reads(plan: Plan): Stages[number] {
  return [
    ...plan.rulesets.map((r) => ({ argv: [`${GENERIC_CLI[r.family]}-save`, '-c'] })),
    ...(plan.ipsets.length > 0 ? [{ argv: ['ipset', 'list', '-t'] }] : []),
  ];
}

/** start with its sets already there: reads, `--test` per family, then the load per family. */
export function startStages(plan: Plan): Stages {
  const restore = (test: boolean) => plan.rulesets.map((r) => ({
    argv: [`${GENERIC_CLI[r.family]}-restore`, '-w', '5', ...(test ? ['--test'] : [])],
    input: familyRestore(plan, r.family),
  }));
  return [reads(plan), restore(true), restore(false)];
}

export const statusStages = (plan: Plan): Stages => [reads(plan)];

export const programCount = (stages: Stages) => stages.reduce((n, s) => n + s.length, 0);

export const FLOOR_BARE = 'programs alone';
export const FLOOR_EXECA = 'programs via run.ts';

/** Read when measuring: bench/run.ts sets the bench's cache directory after the modules load. */
const execaFloorCache = () => `${process.env.TSFIREWALL_CACHE_DIR ?? join(tmpdir(), 'tsfw-bench-cache')}-execa-floor`;

/** A verb's two floor contestants, run in the verb's namespace from the same kernel state (`prepare`). */
export function floorContestants(lab: BenchLab, agent: Agent, verb: string, stages: Stages, prepare?: () => Promise<void>): Contestant[] {
  return (['bare', 'execa'] as const).map((via) => ({
    name: via === 'bare' ? FLOOR_BARE : FLOOR_EXECA,
    prepare,
    // The entry prunes code caches of other builds: the execa floor keeps its own beside the product's.
    measure: () => timed(agent, lab.programs(`${verb}-${via}`, stages, via), via === 'bare' ? {} : { env: { TSFIREWALL_CACHE_DIR: execaFloorCache() } }),
  }));
}

/** What the floors say about a goal of `goal` times Node's floor (`floor`: the samples of `node -e 0`). */
export function floorRows(verb: string, stages: Stages, samples: Record<string, number[]>, floor: string, goal: number): Row[] {
  const ratio = (name: string) => summarize(pairedRatios(samples[name]!, samples[floor]!)).median;
  const median = (name: string) => summarize(samples[name]!).median;
  const [bare, execa] = [ratio(FLOOR_BARE), ratio(FLOOR_EXECA)];
  const above = (r: number, what: string) => (r > goal ? `: above the ${goal}x goal ${what}` : '');
  return [
    {
      goal: `${verb}'s ${programCount(stages)} programs from a bare Node script (the floor of its design, info)`,
      value: `${times(bare)} Node's floor (${ms(median(FLOOR_BARE))} ms)${above(bare, 'before any tsfirewall code runs')}`,
    },
    {
      goal: `the same programs through src/exec/run.ts, behind tsfirewall's entry and code cache (info)`,
      value: `${times(execa)} (${ms(median(FLOOR_EXECA))} ms; the product's exec path adds ${ms(median(FLOOR_EXECA) - median(FLOOR_BARE))} ms)${above(execa, 'before any verb code runs')}`,
    },
  ];
}

export const floorNote = (verb: string, programs: string) =>
  `${FLOOR_BARE}: the programs ${verb} waits on (${programs}), each stage at once, from a bare Node script ` +
  `(bench/lib/programs-raw.ts); ${FLOOR_EXECA}: the same through src/exec/run.ts, the product's one exec path, loaded ` +
  'by its own entry with its code cache (bench/lib/programs-execa.ts). Neither reads a config or writes anything.';
