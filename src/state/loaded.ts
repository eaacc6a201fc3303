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
  return isBootHost(host) ? { rules } : { addresses: [host.myip, ...host.myip6], rules };
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
    const addresses = Array.isArray(parsed.addresses) ? parsed.addresses.filter((a): a is string => typeof a === 'string') : undefined;
    return { rules: parsed.rules, ...(addresses ? { addresses } : {}), ...(typeof parsed.backend === 'string' ? { backend: parsed.backend } : {}) };
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
