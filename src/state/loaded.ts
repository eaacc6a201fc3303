/**
 * What the last successful start or reload put in the kernel, as start compiled it: the rendered rulesets and the
 * address they were made for. `status` compiles the same again and tells the admin when the two differ (the config
 * was edited, or DHCP moved the address) instead of leaving a stale ruleset to be found by its effects. Kept in
 * the run directory per network namespace, like the kernel's rules it describes: gone after a reboot.
 */
import { isBootHost, type BootHost, type HostFacts } from '../discover/host.js';
import { BOOT_CHAIN, type Plan } from '../model.js';
import { isLinkLocal6 } from '../net/addr.js';
import { netnsTag, runDir } from './dirs.js';
import { foldRecentPairs } from './limiter-record.js';
import { readStateFile, writeStateFile } from './write.js';

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
  /** MYIP's prefix (NETMASK) the rules were compiled for: with `addresses`, the host facts diff compiles against. */
  readonly prefix?: number;
  /** The config file's settings as written when the rules were loaded: diff names the keys changed since. */
  readonly settings?: Readonly<Record<string, string>>;
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
export function recordOf(host: HostFacts | BootHost, plan: Plan, settings?: Readonly<Record<string, string>>): LoadedRecord {
  // The plan itself, not one backend's text of it: the record must mean the same whichever backend loads it.
  const rules = JSON.stringify({ rulesets: plan.rulesets, ipsets: plan.ipsets });
  const kept = settings === undefined ? {} : { settings };
  if (isBootHost(host)) return { rules, ...kept };
  // A link-local address is named only where a rule names it (IPV6=mirror): every interface has one, and a
  // ruleset that ignores them must not read as compiled for another host when an interface comes or goes.
  const addresses = hostAddresses(host).filter((a) => !isLinkLocal6(a) || rules.includes(`"${a}/128"`));
  return { addresses, rules, ...(host.prefix === undefined ? {} : { prefix: host.prefix }), ...kept };
}

/**
 * The addresses a ruleset was compiled for, as status names them: MYIP, the IPv6 ones, then every other address of
 * the host's interfaces (each counts as "addressed to me", so an added one is a change to reload for).
 */
export function hostAddresses(host: HostFacts): string[] {
  return [...new Set([...(host.myip === undefined ? [] : [host.myip]), ...host.myip6, ...(host.locals ?? [])])];
}

/**
 * The host facts a record's rules were compiled for (a BootHost for the boot-time ruleset), as near as the record
 * tells them: MYIP first, then the host's other addresses; undefined without a prefix (a record from before it
 * was kept, or a host with IPv6 only).
 */
export function loadedHost(record: LoadedRecord): HostFacts | BootHost | undefined {
  if (record.addresses === undefined) return { boot: true };
  const [myip, ...rest] = record.addresses;
  if (myip === undefined || record.prefix === undefined) return undefined;
  const myip6 = rest.filter((a) => a.includes(':') && !isLinkLocal6(a));
  return { iface: '', myip, prefix: record.prefix, myip6, locals: record.addresses, warnings: [] };
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
    const settings = typeof parsed.settings === 'object' && parsed.settings !== null && !Array.isArray(parsed.settings)
      ? Object.fromEntries(Object.entries(parsed.settings).filter((e): e is [string, string] => typeof e[1] === 'string')) : undefined;
    return {
      rules: foldRecentPairs(parsed.rules), ...(addresses ? { addresses } : {}), ...(typeof parsed.backend === 'string' ? { backend: parsed.backend } : {}),
      ...(sets ? { sets } : {}), ...(typeof parsed.prefix === 'number' ? { prefix: parsed.prefix } : {}), ...(settings ? { settings } : {}),
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

/**
 * The loaded plan as diff needs it to print rules the backend's way: its rulesets, its ban sets and its ban chains
 * (the filter table's chains without a policy, the boot marker aside).
 */
export function loadedPlan(record: LoadedRecord): Pick<Plan, 'rulesets' | 'ipsets' | 'banChains'> | undefined {
  const rulesets = loadedRulesets(record);
  if (!rulesets) return undefined;
  const parsed = JSON.parse(record.rules) as { ipsets?: unknown };
  const banChains = [...new Set(rulesets.rulesets.flatMap((r) => r.tables.filter((t) => t.name === 'filter')
    .flatMap((t) => t.chains.filter((c) => c.policy === undefined && c.name !== BOOT_CHAIN).map((c) => c.name))))];
  return { ...rulesets, ipsets: Array.isArray(parsed.ipsets) ? parsed.ipsets as Plan['ipsets'] : [], banChains };
}

/**
 * stop's mark in place of the record: every backend's ruleset of ours was removed. The next start then knows no
 * other backend holds one and skips asking them (their programs); at boot the run directory is empty, and start
 * asks, as it must after losing the record any other way.
 */
export function forgetLoaded(): void {
  try { writeStateFile(runDir(), recordName(), JSON.stringify(STOPPED)); } catch { /* nowhere to record */ }
}

const STOPPED = { stopped: true } as const;

/** Whether the last thing recorded here is a stop that removed every ruleset of ours. */
export function stoppedCleanly(): boolean {
  try {
    return (JSON.parse(readStateFile(runDir(), recordName()) ?? 'null') as { stopped?: unknown } | null)?.stopped === true;
  } catch {
    return false;
  }
}

/** Pure: how the loaded record differs from the one of what start would load now on `iface`, if it does. */
export function driftOf(loaded: LoadedRecord, now: LoadedRecord, iface: string): Drift | undefined {
  if (loaded.rules === now.rules) return undefined;
  if (loaded.addresses !== undefined && now.addresses !== undefined && loaded.addresses.join(' ') !== now.addresses.join(' ')) {
    return { reason: 'address', iface, loadedFor: loaded.addresses, now: now.addresses };
  }
  return { reason: 'config' };
}
