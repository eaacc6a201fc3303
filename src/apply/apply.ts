/**
 * Loads a Plan into the kernel: ipsets first (created, never flushed), then each family validated with
 * `iptables-restore --test` and loaded in one atomic `iptables-restore`. A failure at any step restores every
 * family already touched from the snapshot taken at the start, counters included.
 */
import type { Backend } from '../discover/backend.js';
import { ApplyError } from '../errors.js';
import { run } from '../exec/run.js';
import { log } from '../log.js';
import type { Family, Plan } from '../model.js';
import { renderRuleset } from '../render/iptables.js';
import { ensureIpsets } from './ipsets.js';
import { appendToFilter, chainEntries, completeAgainst } from './restore-text.js';

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

export async function applyPlan(plan: Plan, backend: Backend): Promise<void> {
  const families = plan.rulesets.map((r) => r.family);
  const before = await snapshot(backend, families);
  const texts = restoreTexts(plan, before);
  await ensureIpsets(plan.ipsets);
  await Promise.all([...texts].map(([family, text]) => validate(backend, family, text)));
  const touched: Family[] = [];
  for (const [family, text] of texts) {
    touched.push(family);
    const result = await restore(backend, family, text, false);
    if (result.exitCode !== 0) {
      const rolledBack = await rollback(backend, before, touched, texts);
      throw new ApplyError(`loading the ${family} ruleset failed: ${why(result)}; ` +
        (rolledBack ? 'the previous ruleset was restored' : 'ROLLBACK FAILED, check `iptables-save`'));
    }
  }
}

async function validate(backend: Backend, family: Family, text: string): Promise<void> {
  const result = await run(backend.restore[family], ['-w', '5', '--test'], { input: text });
  if (result.exitCode !== 0) {
    throw new ApplyError(`${backend.restore[family]} --test rejected the ${family} ruleset, nothing was changed: ${why(result)}`);
  }
}

function restore(backend: Backend, family: Family, text: string, counters: boolean) {
  return run(backend.restore[family], ['-w', '5', ...(counters ? ['--counters'] : [])], { input: text });
}

/** Puts back what the snapshot held; tables we created that did not exist before are left open and empty. */
export async function rollback(backend: Backend, before: Snapshot, families: readonly Family[], attempted: ReadonlyMap<Family, string>): Promise<boolean> {
  let ok = true;
  for (const family of families) {
    const previous = completeAgainst(before.get(family) ?? '', attempted.get(family) ?? '');
    const result = await restore(backend, family, previous, true);
    if (result.exitCode !== 0) {
      ok = false;
      log.error(`rollback of ${family} failed: ${why(result)}`);
    }
  }
  return ok;
}

export const why = (r: { stderr: string; spawnError?: string; exitCode: number }) =>
  (r.spawnError ?? r.stderr.trim()) || `exit code ${r.exitCode}`;
