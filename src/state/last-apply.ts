/**
 * How the last apply ended, for `metrics`: when, how long it took and what became of the ruleset. Written by the
 * one executor (apply/apply.ts) at the end of every apply, success or failure, because a failed reload leaves the
 * loaded record as it was (the previous ruleset is back) and would otherwise leave no trace. In the run directory
 * per network namespace, like the journal and the loaded record it sits beside.
 */
import { netnsTag, runDir } from './dirs.js';
import { readStateFile, writeStateFile } from './write.js';

/**
 * ok: the new ruleset is in. unchanged: refused before the kernel changed (a failed test, a lock-out refusal).
 * rolled-back: it failed after the load began (or was not confirmed) and the previous ruleset is back.
 * rollback-failed: and putting the previous one back failed too.
 */
export const APPLY_RESULTS = ['ok', 'unchanged', 'rolled-back', 'rollback-failed'] as const;
export type ApplyResult = (typeof APPLY_RESULTS)[number];

export interface ApplyOutcome {
  readonly verb: string;
  readonly backend: string;
  /** When it ended, in seconds since the epoch. */
  readonly finished: number;
  /** From the snapshot's start to the end (a --confirm wait included). */
  readonly seconds: number;
  readonly result: ApplyResult;
}

const recordName = () => `last-apply.${netnsTag()}.json`;

/** Best effort: an outcome that cannot be written only costs metrics its apply figures, never the firewall. */
export function recordApply(outcome: ApplyOutcome): void {
  try { writeStateFile(runDir(), recordName(), JSON.stringify(outcome)); } catch { /* see above */ }
}

export function readLastApply(): ApplyOutcome | undefined {
  try {
    const o = JSON.parse(readStateFile(runDir(), recordName()) ?? 'null') as Partial<ApplyOutcome> | null;
    if (typeof o?.verb !== 'string' || typeof o.backend !== 'string' || typeof o.finished !== 'number' ||
      typeof o.seconds !== 'number' || !APPLY_RESULTS.includes(o.result as ApplyResult)) return undefined;
    return o as ApplyOutcome;
  } catch {
    return undefined;
  }
}
