/**
 * Loads a Plan into the kernel as one transaction, in three stages of programs run side by side (start's latency
 * is the chain of programs it waits on, ~10-20 ms each):
 *   1. read: `iptables-save -c` per family (the snapshot rollback returns to) and `ipset list -t` (which ban sets
 *      exist, with what settings), beside the caller's preflight (start's lock-out guard); then the journal is
 *      written. Only when a set is missing or has other settings does `ipset restore` run (sets are created, never
 *      flushed), so a restart usually runs no ipset program beyond the listing;
 *   2. `iptables-restore --test` per family;
 *   3. one atomic `iptables-restore` per family, both at once; then the optional confirm wait.
 * A failure or a termination signal at any step restores every family whose load was attempted from the snapshot,
 * counters included (restoring a family whose own load failed rewrites what is already there), and destroys the
 * sets this apply created; a SIGKILL leaves the journal for the next verb (safety/journal.ts). Step boundaries are
 * named checkpoints where tests inject faults; after the loads, `after-ipv4` then `after-ipv6` are both reached
 * with both families loaded.
 */
import type { Backend } from '../discover/backend.js';
import { readSetHeaders, type SetHeaders } from '../discover/ipsets.js';
import { ApplyError, TsfwError } from '../errors.js';
import { run } from '../exec/run.js';
import { log } from '../log.js';
import type { Family, Plan } from '../model.js';
import { renderRuleset } from '../render/iptables.js';
import { checkpoint, trapSignals } from '../safety/interrupt.js';
import { clearJournal, writeJournal } from '../safety/journal.js';
import { ensureIpsets } from './ipsets.js';
import { appendToFilter, chainEntries, completeAgainst } from './restore-text.js';
import { destroySetsCreatedSince, dropTablesCreatedSince } from './undo.js';

export type Snapshot = ReadonlyMap<Family, string>;

/** `iptables-save -c` of each family, the state rollback returns to. */
export async function snapshot(backend: Backend, families: readonly Family[]): Promise<Snapshot> {
  const saved = await Promise.all(families.map(async (family) => {
    const result = await run(backend.save[family], ['-c']);
    if (result.exitCode !== 0) {
      throw new ApplyError(`cannot read the current ${family} ruleset (${backend.save[family]}): ${why(result)}`);
    }
    return [family, result.stdout] as const;
  }));
  return new Map(saved);
}

/** Restore text per family: the new ruleset, with the ban chains' entries carried over from the snapshot. */
export function restoreTexts(plan: Plan, before: Snapshot): Map<Family, string> {
  return new Map(plan.rulesets.map((ruleset) => {
    const previous = before.get(ruleset.family) ?? '';
    const text = appendToFilter(renderRuleset(ruleset), chainEntries(previous, plan.banChains));
    return [ruleset.family, completeAgainst(text, previous)];
  }));
}

export interface ApplyOptions {
  /** The verb, recorded in the journal for the recovery message. */
  readonly verb?: string;
  /** Runs once the new ruleset is in; resolving false rolls it back (the --confirm wait). */
  readonly confirm?: () => Promise<boolean>;
  /**
   * Must pass before anything changes (start's lock-out guard and module loading). It runs beside the first
   * stage's reads, which touch nothing, so its programs cost no stage of their own; a rejection changes nothing.
   */
  readonly preflight?: () => Promise<void>;
}

export async function applyPlan(plan: Plan, backend: Backend, opts: ApplyOptions = {}): Promise<void> {
  const families = plan.rulesets.map((r) => r.family);
  const release = trapSignals();
  try {
    // Stage 1: reads that touch nothing, side by side with the preflight. All settle first, so a failed
    // preflight (a lock-out refusal) is the error reported whatever else failed.
    const stage = [
      opts.preflight?.(),
      snapshot(backend, families),
      plan.ipsets.length > 0 ? readSetHeaders() : Promise.resolve(new Map() as SetHeaders),
    ] as const;
    await Promise.allSettled(stage);
    const [, before, setsBefore] = await Promise.all(stage);
    const texts = restoreTexts(plan, before);
    await checkpoint('after-snapshot');
    // Before the first change: a full disk or a refused run directory stops us here, with nothing changed.
    try {
      writeJournal({
        version: 1, pid: process.pid, verb: opts.verb ?? 'start', started: new Date().toISOString(), backend: backend.name,
        before: Object.fromEntries(before), attempted: Object.fromEntries(texts),
      });
    } catch (err) {
      throw new ApplyError(`${(err as Error).message}; without its journal the apply cannot be made safe, so nothing was changed`, { cause: err });
    }
    await transaction(plan, backend, before, setsBefore, texts, opts);
  } finally {
    release();
  }
}

async function transaction(
  plan: Plan, backend: Backend, before: Snapshot, setsBefore: SetHeaders | undefined,
  texts: ReadonlyMap<Family, string>, opts: ApplyOptions,
): Promise<void> {
  const touched: Family[] = [];
  try {
    await checkpoint('after-journal');
    await ensureIpsets(plan.ipsets, setsBefore);
    await checkpoint('after-ipsets');
    await Promise.all([...texts].map(([family, text]) => validate(backend, family, text)));
    await checkpoint('after-test');
    await loadAll(backend, texts, touched);
    for (const family of texts.keys()) await checkpoint(`after-${family}`);
    if (opts.confirm && !(await opts.confirm())) {
      throw new ApplyError('the new ruleset was not confirmed in time');
    }
    await checkpoint('before-commit');
  } catch (err) {
    // From here on a second signal must not cut the rollback short: the trap stays installed until we return.
    const ok = await rollback(backend, before, touched, texts);
    // Without a listing from before, no set is known to be ours: destroying one could drop another tool's bans.
    if (setsBefore) await destroySetsCreatedSince(plan.ipsets.map((s) => s.name), setsBefore);
    if (ok) clearJournal();
    const reason = err instanceof Error ? err.message : String(err);
    const outcome = touched.length === 0 ? 'nothing was changed'
      : ok ? 'the previous ruleset was restored' : 'ROLLBACK FAILED, check `iptables-save`';
    const message = reason.includes(outcome) ? reason : `${reason}; ${outcome}`;
    throw new TransactionError(message, err instanceof TsfwError ? err.exitCode : 1, err);
  }
  clearJournal();
}

/**
 * Loads every family at once: each load is atomic and independent of the other family's. All are marked touched
 * before any starts, and all are waited for before a failure is reported, so the rollback never races a load.
 */
async function loadAll(backend: Backend, texts: ReadonlyMap<Family, string>, touched: Family[]): Promise<void> {
  const entries = [...texts];
  touched.push(...entries.map(([family]) => family));
  const results = await Promise.allSettled(entries.map(([family, text]) => restore(backend, family, text, false)));
  results.forEach((r, i) => {
    if (r.status === 'rejected') throw r.reason;
    if (r.value.exitCode !== 0) throw new ApplyError(`loading the ${entries[i]![0]} ruleset failed: ${why(r.value)}`);
  });
}

/** The failed step's error with what became of the ruleset appended; keeps its exit code (5: ipset missing). */
class TransactionError extends TsfwError {
  constructor(message: string, exitCode: number, cause: unknown) { super(message, exitCode, { cause }); }
}

/** `iptables-restore --test` of one family's document in this namespace; `check` reads the result itself. */
export function testRestore(backend: Backend, family: Family, text: string) {
  return run(backend.restore[family], ['-w', '5', '--test'], { input: text });
}

async function validate(backend: Backend, family: Family, text: string): Promise<void> {
  const result = await testRestore(backend, family, text);
  if (result.exitCode !== 0) {
    throw new ApplyError(`${backend.restore[family]} --test rejected the ${family} ruleset: ${why(result)}`);
  }
}

function restore(backend: Backend, family: Family, text: string, counters: boolean) {
  return run(backend.restore[family], ['-w', '5', ...(counters ? ['--counters'] : [])], { input: text });
}

/**
 * Puts back what the snapshot held, counters included. A table only the new ruleset used is emptied and opened,
 * then (nft) deleted, so `iptables-save` reads as before; legacy iptables cannot unregister a table.
 */
export async function rollback(backend: Backend, before: Snapshot, families: readonly Family[], attempted: ReadonlyMap<Family, string>): Promise<boolean> {
  let ok = true;
  for (const family of families) {
    const previous = completeAgainst(before.get(family) ?? '', attempted.get(family) ?? '');
    const result = await restore(backend, family, previous, true);
    if (result.exitCode !== 0) {
      ok = false;
      log.error(`rollback of ${family} failed: ${why(result)}`);
      continue;
    }
    await dropTablesCreatedSince(backend, family, before.get(family) ?? '', attempted.get(family) ?? '');
  }
  return ok;
}

export const why = (r: { stderr: string; spawnError?: string; exitCode: number }) =>
  (r.spawnError ?? r.stderr.trim()) || `exit code ${r.exitCode}`;
