/**
 * Per-jail ban counts for `status`, on its hot path: chain mode counts rules in the iptables-save output status has
 * already read, ipset mode reads every set's header with one `ipset list -t`. fail2ban-client is never asked (its
 * Python start-up alone costs more than all of status).
 */
import type { Family } from '../model.js';
import type { Saved } from '../status/saved.js';
import type { JailSpec } from './jails.js';
import { setCounts } from './kernel.js';

export interface JailCount {
  readonly jail: string;
  readonly mode: JailSpec['mode'];
  /** null: none of the jail's sets/chains exist (firewall not started). */
  readonly count: number | null;
}

/** The set sizes the jails need (one `ipset list -t`), or none: status starts this beside its iptables-save calls. */
export function setCountsFor(jails: readonly JailSpec[]): Promise<ReadonlyMap<string, number>> {
  return jails.some((j) => j.mode === 'ipset') ? setCounts() : Promise.resolve(new Map());
}

export function banCounts(jails: readonly JailSpec[], saved: ReadonlyMap<Family, Saved>, sets: ReadonlyMap<string, number>): JailCount[] {
  return jails.map((j) => {
    const counts = (Object.entries(j.targets) as [Family, string][]).map(([family, target]) => {
      if (j.mode === 'ipset') return sets.get(target);
      const s = saved.get(family);
      if (!s?.chains.some((c) => c.table === 'filter' && c.name === target)) return undefined;
      return s.rules.filter((r) => r.table === 'filter' && r.chain === target).length;
    }).filter((n): n is number => n !== undefined);
    return { jail: j.jail, mode: j.mode, count: counts.length === 0 ? null : counts.reduce((a, b) => a + b, 0) };
  });
}

export function formatBanCounts(counts: readonly JailCount[]): string {
  if (counts.length === 0) return '';
  return `bans: ${counts.map((c) => `${c.jail} ${c.count ?? 'not loaded'}`).join(', ')}\n`;
}
