/**
 * What the last successful start or reload put in the kernel, as start compiled it: the rendered rulesets and the
 * address they were made for. `status` compiles the same again and tells the admin when the two differ (the config
 * was edited, or DHCP moved the address) instead of leaving a stale ruleset to be found by its effects. Kept in
 * the run directory per network namespace, like the kernel's rules it describes: gone after a reboot.
 */
import { isBootHost, type BootHost, type HostFacts } from '../discover/host.js';
import type { Plan } from '../model.js';
import { netnsTag, runDir } from './dirs.js';
import { readStateFile, removeStateFile, writeStateFile } from './write.js';

export interface LoadedRecord {
  /** MYIP, then the IPv6 addresses, the rules were compiled for; undefined for the boot-time ruleset. */
  readonly addresses?: readonly string[];
  readonly rules: string;
  /** The backend that loaded them: another one's rules may still be in the kernel after a switch. */
  readonly backend?: string;
  /**
   * The ban sets every ruleset loaded since the last stop has named: a reload that stops using one (IPV6 mirror ->
   * drop) leaves an ipset in the kernel that no rule names any more, and stop must still find it.
   */
  readonly sets?: readonly string[];
}

/** How the loaded ruleset differs from what `start` would load now, if it does. */
export type Drift =
  | { readonly reason: 'address'; readonly iface: string; readonly loadedFor: readonly string[]; readonly now: readonly string[] }
  | { readonly reason: 'config' }
  /** Another backend holds the loaded rules than the one BACKEND picks now (status reads them there). */
  | { readonly reason: 'backend'; readonly loadedBy: string; readonly now: string };

const recordName = () => `loaded.${netnsTag()}.json`;

/**
 * The record of a plan compiled for a host, the one definition of it: what start writes once its apply is done,
 * and what status and `reload --if-changed` compare the written one with.
 */
export function recordOf(host: HostFacts | BootHost, plan: Plan): LoadedRecord {
  // The plan itself, not one backend's text of it: the record must mean the same whichever backend loads it.
  const rules = JSON.stringify({ rulesets: plan.rulesets, ipsets: plan.ipsets });
  // A link-local address is named only where a rule names it (IPV6=mirror): every interface has one, and a
  // ruleset that ignores them must not read as compiled for another host when an interface comes or goes.
  return isBootHost(host) ? { rules } : { addresses: hostAddresses(host).filter((a) => !/^fe[89ab]/i.test(a) || rules.includes(`"${a}/128"`)), rules };
}

/**
 * The addresses a ruleset was compiled for, as status names them: MYIP, the IPv6 ones, then every other address of
 * the host's interfaces (each counts as "addressed to me", so an added one is a change to reload for).
 */
export function hostAddresses(host: HostFacts): string[] {
  return [...new Set([...(host.myip === undefined ? [] : [host.myip]), ...host.myip6, ...(host.locals ?? [])])];
}

/** The ban sets a record accounts for; a record written before `sets` existed names its own plan's. */
export function loadedSets(record: LoadedRecord): readonly string[] {
  if (record.sets) return record.sets;
  try {
    const parsed = JSON.parse(record.rules) as { ipsets?: { name?: unknown }[] } | null;
    return (Array.isArray(parsed?.ipsets) ? parsed.ipsets : []).map((s) => s.name).filter((n): n is string => typeof n === 'string');
  } catch {
    return [];
  }
}

/**
 * The record start writes after a load: `record` plus the sets `previous` (written by the same backend) accounted
 * for, which stay in the kernel until stop removes them whether the new plan names them or not.
 */
export function withCarriedSets(record: LoadedRecord, previous: LoadedRecord | undefined): LoadedRecord {
  const carried = previous !== undefined && previous.backend === record.backend ? loadedSets(previous) : [];
  const sets = [...new Set([...carried, ...loadedSets(record)])];
  return sets.length > 0 ? { ...record, sets } : record;
}

/** Best effort: a record that cannot be written only costs status its drift check, never the loaded firewall. */
export function recordLoaded(record: LoadedRecord): boolean {
  try {
    writeStateFile(runDir(), recordName(), JSON.stringify(record));
    return true;
  } catch {
    return false;
  }
}

export function readLoaded(): LoadedRecord | undefined {
  try {
    const parsed = JSON.parse(readStateFile(runDir(), recordName()) ?? 'null') as Partial<LoadedRecord> | null;
    if (typeof parsed?.rules !== 'string') return undefined;
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((a): a is string => typeof a === 'string') : undefined);
    const addresses = strings(parsed.addresses);
    const sets = strings(parsed.sets);
    return {
      rules: parsed.rules, ...(addresses ? { addresses } : {}), ...(typeof parsed.backend === 'string' ? { backend: parsed.backend } : {}),
      ...(sets ? { sets } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * The loaded plan's rulesets, as the record holds them: what intact() compares the kernel with. Undefined when the
 * record cannot be read as a plan (written by a build whose record held another backend's text).
 */
export function loadedRulesets(record: LoadedRecord): Pick<Plan, 'rulesets'> | undefined {
  try {
    const parsed = JSON.parse(record.rules) as { rulesets?: unknown } | null;
    return Array.isArray(parsed?.rulesets) ? { rulesets: parsed.rulesets as Plan['rulesets'] } : undefined;
  } catch {
    return undefined;
  }
}

export function forgetLoaded(): void {
  try { removeStateFile(runDir(), recordName()); } catch { /* nothing recorded, or nowhere to record */ }
}

/** Pure: how the loaded record differs from the one of what start would load now on `iface`, if it does. */
export function driftOf(loaded: LoadedRecord, now: LoadedRecord, iface: string): Drift | undefined {
  if (loaded.rules === now.rules) return undefined;
  if (loaded.addresses !== undefined && now.addresses !== undefined && loaded.addresses.join(' ') !== now.addresses.join(' ')) {
    return { reason: 'address', iface, loadedFor: loaded.addresses, now: now.addresses };
  }
  return { reason: 'config' };
}
