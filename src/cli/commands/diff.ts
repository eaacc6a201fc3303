/**
 * diff (and `reload --dry-run`): the live rules against what a reload would load, rule by rule in the talk's groups,
 * with the config keys and address changes behind each difference. What was loaded is the record start left
 * (state/loaded.ts: the plan, the address and the settings it was made from); the kernel is held against it by the
 * backend's intact(), so a change from outside shows too. It changes nothing. Exit 0 same, 1 different, 3 not loaded.
 */
import { holdersBesides } from '../../apply/switch.js';
import type { FirewallBackend, LiveState } from '../../backend/types.js';
import { compile } from '../../compile/plan.js';
import { parseSettings } from '../../config/load.js';
import { resolveHostChoices } from '../../discover/choices.js';
import { addressLabels, causesFor, causesOf, type Cause } from '../../diff/causes.js';
import { formatDiff, wantsColour, type DiffEntry, type DiffReport } from '../../diff/format.js';
import { diffPlans } from '../../diff/plan-diff.js';
import type { BootHost, HostFacts } from '../../discover/host.js';
import { NotRunningError } from '../../errors.js';
import type { Plan } from '../../model.js';
import { loadedHost, loadedPlan, readLoaded, type LoadedRecord } from '../../state/loaded.js';
import { applyInProgress } from '../../status/intact.js';
import type { Command } from '../context.js';
import { prepare } from '../pipeline.js';

/** Whoever holds our rules now: the configured backend, or the one a change of BACKEND left them in. */
async function holderOf(backend: FirewallBackend): Promise<{ backend: FirewallBackend; live: LiveState }> {
  const own = await backend.readLive(['ipv4', 'ipv6'], []);
  const holder = own.loaded ? { backend, live: own } : (await holdersBesides(backend.name))[0];
  if (!holder) throw new NotRunningError('the firewall is not loaded, so there is nothing to compare ("tsfirewall start" loads it)');
  return holder;
}

/** The changes since the load, each tried alone; the record's settings say which keys, its addresses where. */
function causesSince(record: LoadedRecord, now: { settings: Readonly<Record<string, string>>; host: HostFacts | BootHost }, backend: FirewallBackend,
  notes: string[]): Cause[] {
  const host = loadedHost(record);
  if (record.settings === undefined || host === undefined) {
    notes.push('the record of the last load does not hold its settings (written by an older tsfirewall): which keys changed is not known');
    const moved = host ? addressLabels(host, now.host) : [];
    if (moved.length > 0) notes.push(`since the load: ${moved.join(', ')}`);
    return [];
  }
  const planOf = (settings: Readonly<Record<string, string>>, h: HostFacts | BootHost) => {
    try { return compile(resolveHostChoices(parseSettings(settings).config, backend.name), h); } catch { return undefined; }
  };
  return causesOf({ settings: record.settings, host }, now, planOf);
}

const diff: Command = async (ctx) => {
  const { host, plan, backend, settings } = await prepare(ctx);
  const holder = await holderOf(backend);
  const record = readLoaded();
  const loaded = record && loadedPlan(record);
  const notes: string[] = [];
  let notAsLoaded: string[] = [];
  if (applyInProgress()) notes.push('an apply is running: the kernel is between two rulesets');
  else if (loaded && record?.backend === holder.backend.name) notAsLoaded = holder.backend.intact(loaded, holder.live);
  else if (holder.backend === backend) {
    notes.push('no record of what was loaded (stopped by hand, or loaded by an older tsfirewall): the kernel is compared with the new rules by group and verdict only');
    notAsLoaded = backend.intact(plan, holder.live);
  }
  const changes = loaded ? diffPlans(loaded, plan) : [];
  const causes = record && loaded ? causesSince(record, { settings, host }, backend, notes) : [];
  const show = (b: FirewallBackend, p: Pick<Plan, 'banChains' | 'ipsets'>, c: (typeof changes)[number], rule: (typeof changes)[number]['before']) =>
    (rule ? b.showRule(rule, { family: c.family, table: c.table }, p) : null);
  const entries: DiffEntry[] = changes.map((c) => ({
    family: c.family, table: c.table, chain: c.chain, group: c.group, change: c.kind,
    before: show(holder.backend, loaded!, c, c.before), after: show(backend, plan, c, c.after), causes: causesFor(c, causes),
  }));
  const used = new Set(entries.flatMap((e) => e.causes));
  if (entries.some((e) => e.causes.length === 0) && causes.length > 0) {
    notes.push('some differences come from no config or address change: this tsfirewall builds those rules differently from the one that loaded them');
  }
  const report: DiffReport = {
    same: entries.length === 0 && notAsLoaded.length === 0 && holder.backend === backend,
    backend: backend.label, loadedBy: holder.backend.label, changes: entries, notAsLoaded,
    causes: causes.map((c) => c.label).filter((l) => used.has(l)), otherChanges: causes.map((c) => c.label).filter((l) => !used.has(l)), notes,
  };
  process.stdout.write(ctx.json ? `${JSON.stringify(report, null, 2)}\n` : formatDiff(report, wantsColour(process.stdout, process.env)));
  return report.same ? 0 : 1;
};

export default diff;
