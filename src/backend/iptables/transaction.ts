/**
 * The iptables backend's side of an apply: the snapshot (`iptables-save -c` per family, beside one `ipset list -t`),
 * the restore documents staged against it, their `--test`, the atomic load (one `iptables-restore` per family, both
 * at once) and the rollback to the snapshot, counters included. apply/apply.ts orders these steps; nothing here
 * holds the lock or writes the journal.
 */
import { ApplyError } from '../../errors.js';
import { run, type RunResult } from '../../exec/run.js';
import { log } from '../../log.js';
import type { Family, Plan } from '../../model.js';
import { snippetRefusal } from '../snippet-errors.js';
import type { Snapshot, Staged } from '../types.js';
import { readSetHeaders, type SetHeader, type SetHeaders } from './ipset-list.js';
import { ensureIpsets } from './ipsets.js';
import { ipsetCreateScript } from './ipset-text.js';
import type { IptablesPrograms } from './programs.js';
import { ownedIn, transition } from './ownership.js';
import { readSaved } from './parse.js';
import { ownedRuleset } from './render.js';
import { destroySetsCreatedSince, dropTablesCreatedSince } from './undo.js';

/** What the snapshot holds: each family's saved text, and the ban sets' headers (undefined: the listing failed). */
export interface SnapshotData {
  readonly saved: Partial<Record<Family, string>>;
  readonly headers?: readonly (readonly [string, SetHeader])[];
}

/** The staged restore text per family, and the sets this apply creates (the rollback destroys those). */
export interface StagedData {
  readonly texts: Partial<Record<Family, string>>;
  readonly ipsets: Plan['ipsets'];
  /** The snapshot's set headers, to decide what to create or rebuild; undefined: unknown. */
  readonly headers?: SnapshotData['headers'];
  readonly created: readonly string[];
}

const families = (plan: Plan) => plan.rulesets.map((r) => r.family);

export async function takeSnapshot(p: IptablesPrograms, plan: Plan, name: Snapshot['backend']): Promise<Snapshot> {
  const [saved, headers] = await Promise.all([
    Promise.all(families(plan).map(async (family) => {
      const result = await run(p.save[family], ['-c']);
      if (result.exitCode !== 0) throw new ApplyError(`cannot read the current ${family} ruleset (${p.save[family]}): ${why(result)}`);
      return [family, result.stdout] as const;
    })),
    plan.ipsets.length > 0 ? readSetHeaders() : Promise.resolve(new Map() as SetHeaders),
  ]);
  const data: SnapshotData = { saved: Object.fromEntries(saved), ...(headers ? { headers: [...headers] } : {}) };
  return { backend: name, data };
}

/**
 * The --noflush document per family that takes what we own in the snapshot to the new ruleset, the ban chains'
 * entries carried over (fail2ban's bans survive a reload); nothing else in the tables is named.
 */
export function restoreTexts(plan: Plan, saved: Partial<Record<Family, string>>): Partial<Record<Family, string>> {
  return Object.fromEntries(plan.rulesets.map((ruleset) => {
    const current = readSaved(saved[ruleset.family] ?? '');
    const filter = current.find((t) => t.name === 'filter');
    const carried = new Map(plan.banChains.map((chain) =>
      [chain, (filter?.rules ?? []).filter((r) => r.chain === chain).map((r) => r.line)] as const));
    return [ruleset.family, transition(current, ownedRuleset(ruleset, carried))];
  }));
}

export function stageAgainst(p: IptablesPrograms, plan: Plan, before: Snapshot | undefined, name: Staged['backend']): Staged {
  const data = before?.data as SnapshotData | undefined;
  const known = data?.headers ? new Set(data.headers.map(([n]) => n)) : undefined;
  const staged: StagedData = {
    texts: restoreTexts(plan, data?.saved ?? {}),
    ipsets: plan.ipsets,
    ...(data?.headers ? { headers: data.headers } : {}),
    created: known ? plan.ipsets.map((s) => s.name).filter((n) => !known.has(n)) : [],
  };
  const parts = [
    ...(plan.ipsets.length > 0 ? [{ title: 'ipset restore -exist', text: ipsetCreateScript(plan.ipsets) }] : []),
    ...(Object.entries(staged.texts) as [Family, string][]).map(([family, text]) => ({ title: `${p.restore[family]}  (${family})`, text })),
  ];
  return { backend: name, parts, data: staged };
}

export async function prepareSets(staged: Staged): Promise<void> {
  const data = staged.data as StagedData;
  await ensureIpsets(data.ipsets, data.headers ? new Map(data.headers) : undefined);
}

/** `iptables-restore --test` of one family's document in this namespace. */
export function testRestore(p: IptablesPrograms, family: Family, text: string): Promise<RunResult> {
  return run(p.restore[family], ['-w', '5', '--noflush', '--test'], { input: text });
}

export async function testStaged(p: IptablesPrograms, staged: Staged): Promise<void> {
  const texts = Object.entries((staged.data as StagedData).texts) as [Family, string][];
  await Promise.all(texts.map(async ([family, text]) => {
    const result = await testRestore(p, family, text);
    const what = `${p.restore[family]} --test rejected the ${family} ruleset`;
    if (result.exitCode !== 0) throw snippetRefusal(what, why(result), text) ?? new ApplyError(`${what}: ${why(result)}`);
  }));
}

/**
 * Loads every family at once: each load is atomic and independent of the other family's, and all are waited for
 * before a failure is reported, so a rollback never races a load.
 */
export async function loadStaged(p: IptablesPrograms, staged: Staged): Promise<void> {
  const texts = Object.entries((staged.data as StagedData).texts) as [Family, string][];
  const results = await Promise.allSettled(texts.map(([family, text]) => restore(p, family, text, false)));
  results.forEach((r, i) => {
    if (r.status === 'rejected') throw r.reason;
    const what = `loading the ${texts[i]![0]} ruleset failed`;
    if (r.value.exitCode !== 0) throw snippetRefusal(what, why(r.value), texts[i]![1]) ?? new ApplyError(`${what}: ${why(r.value)}`);
  });
}

function restore(p: IptablesPrograms, family: Family, text: string, counters: boolean) {
  return run(p.restore[family], ['-w', '5', '--noflush', ...(counters ? ['--counters'] : [])], { input: text });
}

/**
 * Puts back what we owned in the snapshot, counters included, for every family, from what we own now (read again:
 * the load may or may not have happened); other tools' rules are not named. A table only the new ruleset used is
 * deleted again when empty (nft), so iptables-save reads as before; legacy iptables cannot unregister a table.
 * Sets the attempt created are destroyed (only when the snapshot's listing was known: otherwise no set is known
 * to be ours).
 */
export async function rollbackTo(p: IptablesPrograms, before: Snapshot, attempted: Staged | undefined, loaded: boolean): Promise<boolean> {
  const data = before.data as SnapshotData;
  const tried = (attempted?.data as StagedData | undefined)?.texts ?? {};
  let ok = true;
  for (const family of loaded ? Object.keys(data.saved) as Family[] : []) {
    const saved = data.saved[family] ?? '';
    const now = await run(p.save[family], []);
    const text = now.exitCode === 0 ? transition(readSaved(now.stdout), ownedIn(readSaved(saved), true)) : undefined;
    const result = text === '' ? undefined : text === undefined ? now : await restore(p, family, text, true);
    if (result && result.exitCode !== 0) {
      ok = false;
      log.error(`rollback of ${family} failed: ${why(result)}`);
      continue;
    }
    await dropTablesCreatedSince(p, family, saved, tried[family] ?? '');
  }
  const created = (attempted?.data as StagedData | undefined)?.created ?? [];
  if (data.headers) await destroySetsCreatedSince(created, new Set(data.headers.map(([n]) => n)));
  return ok;
}

export const why = (r: { stderr: string; spawnError?: string; exitCode: number }) =>
  (r.spawnError ?? r.stderr.trim()) || `exit code ${r.exitCode}`;
