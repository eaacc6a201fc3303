/**
 * What start must still do about the ban sets, given the headers `ipset list -t` showed (discover/ipsets.ts): a set
 * with our settings is left alone, so the usual restart runs no ipset program beyond that read; a missing one is
 * created; one with other settings is rebuilt with its entries kept.
 */
import type { SetHeader, SetHeaders } from './ipset-list.js';
import type { IpsetSpec } from '../../model.js';

/** The settings we care about: type, family, maxelem, and per-entry timeouts (fail2ban's ban time). */
export function settingsMatch(set: SetHeader, spec: IpsetSpec): boolean {
  const value = (key: string) => {
    const i = set.settings.indexOf(key);
    return i < 0 ? undefined : set.settings[i + 1];
  };
  return set.type === spec.type && value('family') === spec.family && value('maxelem') === String(spec.maxelem)
    && set.settings.includes('timeout');
}

export interface SetWork {
  /** Missing: `ipset restore -exist` creates them. */
  readonly create: readonly IpsetSpec[];
  /** Present with other settings: rebuilt, entries kept (ipset-migrate.ts). */
  readonly rebuild: readonly IpsetSpec[];
}

/**
 * What it takes to bring the planned sets about; both lists empty means nothing to run. With the listing unknown
 * every set is sent to `ipset restore -exist`, which leaves a matching one alone and names one that differs.
 */
export function setWork(specs: readonly IpsetSpec[], existing: SetHeaders | undefined): SetWork {
  if (!existing) return { create: specs, rebuild: [] };
  return {
    create: specs.filter((s) => !existing.has(s.name)),
    rebuild: specs.filter((s) => existing.has(s.name) && !settingsMatch(existing.get(s.name)!, s)),
  };
}
