/**
 * Whether the kernel still holds what the last start or reload loaded: the record (state/loaded.ts) read back as a
 * plan and held against the live ruleset by the backend that loaded it (FirewallBackend.intact). status,
 * `reload --if-changed` and the watcher all ask here, so the three always agree on what "not intact" means.
 */
import type { FirewallBackend, LiveState } from '../backend/types.js';
import type { Family, Plan } from '../model.js';
import { readJournal } from '../safety/journal.js';
import { loadedRulesets, readLoaded, type LoadedRecord } from '../state/loaded.js';

export interface Loaded {
  readonly plan: Pick<Plan, 'rulesets'>;
  /** The families the loaded plan filters: the ones to read. */
  readonly families: readonly Family[];
}

/**
 * What `backend` loaded, to judge the kernel against; undefined when nothing can be judged: no record (stopped, or
 * never started since boot), or the record is another backend's (its rules are in another tool's tables).
 */
export function loadedBy(backend: Pick<FirewallBackend, 'name'>, record: LoadedRecord | undefined = readLoaded()): Loaded | undefined {
  if (record === undefined || record.backend !== backend.name) return undefined;
  const plan = loadedRulesets(record);
  return plan && { plan, families: plan.rulesets.map((r) => r.family) };
}

/**
 * An apply running right now (its journal's writer alive) changes the kernel before it writes the record, so the
 * two disagree until it is done: status does not judge meanwhile. A journal left by a killed apply is judged.
 */
export function applyInProgress(): boolean {
  let pid: number | undefined;
  try { pid = readJournal()?.pid; } catch { return false; }
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The problems with `live`, read after it (the record is written after the kernel changes); [] when not judged. */
export function problemsOf(backend: Pick<FirewallBackend, 'name' | 'intact'>, live: LiveState): string[] {
  const loaded = loadedBy(backend);
  return loaded ? backend.intact(loaded.plan, live) : [];
}

/** status's lines for a ruleset that is not intact: what is wrong, and the verb that puts it back. */
export function describeProblems(problems: readonly string[]): string {
  return ['not intact: the loaded rules were changed from outside; "tsfirewall reload" puts them back:',
    ...problems.map((p) => `  ${p}`)].join('\n');
}
