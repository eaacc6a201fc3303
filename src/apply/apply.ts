/**
 * The one executor: loads a Plan through its backend as one transaction, in stages of programs run side by side
 * (start's latency is the chain of programs it waits on):
 *   1. the backend's snapshot (the state a rollback returns to), beside the caller's preflight (start's lock-out
 *      guard); then the journal is written, before the first change;
 *   2. the backend's prepare (ipset's sets, which live outside iptables' transaction) and test;
 *   3. the atomic load (on nftables also the test: a refusal of its one transaction changed nothing); then the
 *      optional confirm wait.
 * A failure or a termination signal at any step rolls back to the snapshot; a SIGKILL leaves the journal for the
 * next verb (safety/journal.ts). Step boundaries are named checkpoints where tests inject faults; after the load,
 * `after-ipv4` then `after-ipv6` are both reached with both families loaded.
 */
import { LoadRefusedError, type FirewallBackend, type Snapshot, type Staged } from '../backend/types.js';
import { ApplyError, TsfwError } from '../errors.js';
import type { Plan } from '../model.js';
import { checkpoint, trapSignals } from '../safety/interrupt.js';
import { clearJournal, writeJournal } from '../safety/journal.js';
import { recordApply, type ApplyResult } from '../state/last-apply.js';

export interface ApplyOptions {
  /** The verb, recorded in the journal for the recovery message. */
  readonly verb?: string;
  /** Runs once the new ruleset is in; resolving false rolls it back (the --confirm wait). */
  readonly confirm?: () => Promise<boolean>;
  /**
   * Must pass before anything changes (start's lock-out guard and module loading). It runs beside the snapshot,
   * which touches nothing, so its programs cost no stage of their own; a rejection changes nothing.
   */
  readonly preflight?: () => Promise<void>;
}

export async function applyPlan(plan: Plan, backend: FirewallBackend, opts: ApplyOptions = {}): Promise<void> {
  // Not performance.now(): the global loads perf_hooks and its modules on the start path.
  const began = process.hrtime.bigint();
  const outcome = (result: ApplyResult) => recordApply({
    verb: opts.verb ?? 'start', backend: backend.name, finished: Date.now() / 1000, seconds: Number(process.hrtime.bigint() - began) / 1e9, result,
  });
  try {
    await applyTrapped(plan, backend, opts);
    outcome('ok');
  } catch (err) {
    outcome(err instanceof TransactionError ? err.result : 'unchanged');
    throw err;
  }
}

async function applyTrapped(plan: Plan, backend: FirewallBackend, opts: ApplyOptions): Promise<void> {
  const release = trapSignals();
  try {
    // The snapshot's programs start first, so the preflight's own work (the lock-out guard reads /proc) runs while
    // they do instead of before them. Both settle first, and a failed preflight (a lock-out refusal) is the error
    // reported whatever else failed: it comes first below.
    const snapshot = backend.snapshot(plan);
    const stage = [opts.preflight?.(), snapshot] as const;
    await Promise.allSettled(stage);
    const [, before] = await Promise.all(stage);
    const staged = backend.stage(plan, before);
    await checkpoint('after-snapshot');
    // Before the first change: a full disk or a refused run directory stops us here, with nothing changed.
    try {
      writeJournal({ version: 2, pid: process.pid, verb: opts.verb ?? 'start', started: new Date().toISOString(), before, attempted: staged });
    } catch (err) {
      throw new ApplyError(`${(err as Error).message}; without its journal the apply cannot be made safe, so nothing was changed`, { cause: err });
    }
    await transaction(plan, backend, before, staged, opts);
  } finally {
    release();
  }
}

async function transaction(plan: Plan, backend: FirewallBackend, before: Snapshot, staged: Staged, opts: ApplyOptions): Promise<void> {
  let loaded = false;
  try {
    await checkpoint('after-journal');
    await backend.prepare(staged);
    await checkpoint('after-ipsets');
    await backend.test(staged);
    await checkpoint('after-test');
    loaded = true;
    await backend.load(staged).catch((err: unknown) => {
      if (err instanceof LoadRefusedError) loaded = false;
      throw err;
    });
    for (const ruleset of plan.rulesets) await checkpoint(`after-${ruleset.family}`);
    if (opts.confirm && !(await opts.confirm())) {
      throw new ApplyError('the new ruleset was not confirmed in time');
    }
    await checkpoint('before-commit');
  } catch (err) {
    // From here on a second signal must not cut the rollback short: the trap stays installed until we return.
    const ok = await backend.rollback(before, staged, { loaded });
    if (ok) clearJournal();
    const reason = err instanceof Error ? err.message : String(err);
    const outcome = !loaded ? 'nothing was changed'
      : ok ? 'the previous ruleset was restored' : `ROLLBACK FAILED, check the ${backend.label} ruleset`;
    const message = reason.includes(outcome) ? reason : `${reason}; ${outcome}`;
    const result: ApplyResult = !loaded ? 'unchanged' : ok ? 'rolled-back' : 'rollback-failed';
    throw new TransactionError(message, err instanceof TsfwError ? err.exitCode : 1, err, result);
  }
  clearJournal();
}

/** The failed step's error with what became of the ruleset appended; keeps its exit code (5: ipset missing). */
class TransactionError extends TsfwError {
  constructor(message: string, exitCode: number, cause: unknown, readonly result: ApplyResult) { super(message, exitCode, { cause }); }
}
