/**
 * Forgetting the hit-rate limiter's sources on nftables: each limiter name has a window set and a hold set per
 * family (layout.ts), so `recent clear SSH` empties all four, and an unbanned address is deleted from those of its
 * family. Pure: the caller runs the commands.
 */
import type { Family } from '../../model.js';
import { LIMITER_SETS, TABLE_REF, limiterSet } from './layout.js';

const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];
const KINDS = ['window', 'held'] as const;

/** The limiter names that have sets in the table (rl-SSH, rlheld6-SSH... all give SSH). */
export function limiterNames(present: readonly string[]): string[] {
  const prefixes = KINDS.flatMap((k) => FAMILIES.map((f) => LIMITER_SETS[k][f])).sort((a, b) => b.length - a.length);
  return [...new Set(present.map((s) => prefixes.find((p) => s.startsWith(p)) && s.slice(prefixes.find((p) => s.startsWith(p))!.length))
    .filter((n): n is string => typeof n === 'string' && n !== ''))];
}

/** The sets of these names that exist, per family. */
export function limiterSetsOf(present: readonly string[], names: readonly string[]): { family: Family; set: string }[] {
  const have = new Set(present);
  return names.flatMap((name) => KINDS.flatMap((kind) => FAMILIES.map((family) => ({ family, set: limiterSet(kind, name, family) }))))
    .filter((s) => have.has(s.set));
}

/** One transaction emptying the sets. */
export const flushDocument = (sets: readonly string[]) => sets.map((s) => `flush set ${TABLE_REF} ${s}\n`).join('');

/** Deleting one address from one set: its own transaction, as an element that is not there fails it. */
export const deleteDocument = (set: string, ip: string) => `delete element ${TABLE_REF} ${set} { ${ip} }\n`;
