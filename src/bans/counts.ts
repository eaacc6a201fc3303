/**
 * Per-jail ban counts for `status`, on its hot path: chain mode counts rules in the iptables-save output status has
 * already read, ipset mode reads every set's header with one `ipset list -t`. fail2ban-client is never asked (its
 * Python start-up alone costs more than all of status).
 */
import type { Family } from '../model.js';
import type { LiveFamily } from '../backend/types.js';
import type { JailSpec } from './jails.js';

export interface JailCount {
  readonly jail: string;
  readonly mode: JailSpec['mode'];
  /** null: none of the jail's sets/chains exist (firewall not started). */
  readonly count: number | null;
}

/** The ban sets whose sizes status must read (none in chain mode, where the rules already tell). */
export const setsToCount = (jails: readonly JailSpec[]): string[] =>
  jails.filter((j) => j.kind === 'set').flatMap((j) => Object.values(j.targets));

export function banCounts(jails: readonly JailSpec[], saved: ReadonlyMap<Family, LiveFamily>, sets: ReadonlyMap<string, number>): JailCount[] {
  return jails.map((j) => {
    const counts = (Object.entries(j.targets) as [Family, string][]).map(([family, target]) => {
      if (j.kind === 'set') return sets.get(target);
      const s = saved.get(family);
      if (!s?.chains.some((c) => c.name === target)) return undefined;
      return s.rules.filter((r) => r.chain === target).length;
    }).filter((n): n is number => n !== undefined);
    return { jail: j.jail, mode: j.mode, count: counts.length === 0 ? null : counts.reduce((a, b) => a + b, 0) };
  });
}

export function formatBanCounts(counts: readonly JailCount[]): string {
  if (counts.length === 0) return '';
  return `bans: ${counts.map((c) => `${c.jail} ${c.count ?? 'not loaded'}`).join(', ')}\n`;
}
