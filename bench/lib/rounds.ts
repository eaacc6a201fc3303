/**
 * Interleaved rounds: every contestant runs once per round, in a fresh shuffled order, so neither a warming cache
 * nor someone else's docker build favours whoever happens to run first. Samples stay in round order, which keeps
 * per-round ratios paired.
 */
import type { Agent } from './ns.js';
import { shuffled } from './stats.js';

export interface Contestant {
  readonly name: string;
  /** Untimed setup before each timed run (reset the kernel state, flush a set). */
  readonly prepare?: () => Promise<void>;
  /** One timed run; resolves to the figure (ms, or a rate). */
  readonly measure: () => Promise<number>;
  /** Untimed check after each run (a count that must hold); throws when it does not. */
  readonly verify?: () => Promise<void>;
  /** A slow contestant (seconds a run) takes part in the first `maxRounds` rounds only. */
  readonly maxRounds?: number;
}

export interface RoundOptions {
  readonly rounds: number;
  /** Stop early (after at least 2 rounds) when the regular contestants have used up this much time. */
  readonly budgetMs: number;
  readonly rand: () => number;
  /**
   * One untimed run of each regular contestant first. The CLI writes a verb's code cache (src/cli/boot.ts) on that
   * verb's first run, which an installed system pays once per upgrade, not once per start; the bench times the
   * steady state and reports the first run separately.
   */
  readonly warmUp?: boolean;
}

export async function interleave(contestants: readonly Contestant[], opts: RoundOptions): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = Object.fromEntries(contestants.map((c) => [c.name, []]));
  // The budget counts the regular contestants only: slow ones are already bounded by maxRounds, and must not
  // starve the others of rounds.
  let spent = 0;
  if (opts.warmUp) {
    for (const c of contestants.filter((x) => x.maxRounds === undefined)) {
      await c.prepare?.();
      await c.measure();
      await c.verify?.();
    }
  }
  for (let round = 0; round < opts.rounds; round++) {
    if (round >= 2 && spent > opts.budgetMs) break;
    for (const c of shuffled(contestants.filter((x) => round < (x.maxRounds ?? Infinity)), opts.rand)) {
      const t0 = Date.now();
      await c.prepare?.();
      samples[c.name]!.push(await c.measure());
      await c.verify?.();
      if (c.maxRounds === undefined) spent += Date.now() - t0;
    }
  }
  return samples;
}

/** Times one command in the agent's namespace; a wrong exit code is an error, never a fast sample. */
export async function timed(agent: Agent, argv: readonly string[], opts: { input?: string; expect?: number[]; env?: Record<string, string> } = {}): Promise<number> {
  const r = await agent.send({ op: 'run', argv, input: opts.input, env: opts.env });
  if (!(opts.expect ?? [0]).includes(r.code)) {
    throw new Error(`[${agent.ns}] ${argv.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(-800)}`);
  }
  return r.ms;
}

/** Times a sequence of commands (the per-rule and per-IP methods); any failure is an error. */
export async function timedSeq(agent: Agent, argvs: readonly (readonly string[])[], timeoutMs = 120_000): Promise<number> {
  const r = await agent.send({ op: 'seq', argvs, timeoutMs });
  if (r.code !== 0) throw new Error(`[${agent.ns}] sequence of ${argvs.length} failed (${r.failures ?? 0} failures, code ${r.code}): ${r.stderr}`);
  return r.ms;
}
