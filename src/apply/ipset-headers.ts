/**
 * Every ipset's header from one `ipset list -t`, which prints no members however many bans the sets hold. start
 * reads it beside its snapshot: it says which ban sets exist (rollback destroys only the others) and whether they
 * have our settings, so the usual restart runs no ipset program beyond this read. status reads entry counts from it.
 */
import { which } from '../discover/backend.js';
import { run } from '../exec/run.js';
import type { IpsetSpec } from '../model.js';

export interface SetHeader {
  readonly type: string;
  /** The words of the `Header:` line ("family inet hashsize 4096 maxelem 262144 timeout 0 ..."). */
  readonly settings: readonly string[];
  /** Absent when the ipset version prints no count. */
  readonly entries?: number;
}

export type SetHeaders = ReadonlyMap<string, SetHeader>;

/** `ipset list -t` text to one header per set name; blocks are separated by their `Name:` lines. */
export function parseSetHeaders(listing: string): Map<string, SetHeader> {
  const sets = new Map<string, SetHeader>();
  for (const block of listing.split(/\n(?=Name: )/)) {
    const field = (key: string) => new RegExp(`^${key}: *(.*)$`, 'm').exec(block)?.[1]?.trim();
    const name = field('Name');
    if (!name) continue;
    const entries = field('Number of entries');
    sets.set(name, {
      type: field('Type') ?? '',
      settings: (field('Header') ?? '').split(/\s+/).filter(Boolean),
      ...(entries !== undefined && /^\d+$/.test(entries) ? { entries: Number(entries) } : {}),
    });
  }
  return sets;
}

/**
 * One `ipset list -t`. An empty map without the ipset program (then no set exists either); undefined when the
 * listing failed, so nothing is known and callers fall back to what holds without knowing.
 */
export async function readSetHeaders(): Promise<SetHeaders | undefined> {
  const ipset = which('ipset');
  if (!ipset) return new Map();
  const result = await run(ipset, ['list', '-t']);
  return result.exitCode === 0 ? parseSetHeaders(result.stdout) : undefined;
}

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
