/**
 * Forgetting the hit-rate limiter's sources on nftables: each limiter name has a window set and a hold set per
 * family (layout.ts), so `recent clear SSH` empties all four, and an unbanned address is deleted from those of its
 * family. Pure: the caller runs the documents, each one transaction.
 */
import type { Family } from '../../model.js';
import { removeBatch } from './bans.js';
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

/**
 * Forgetting sources (an unban's addresses) in the sets, all in one transaction: each address is added, then
 * deleted, so one the set does not hold is no error (a delete of a missing element fails the whole transaction),
 * as in the ban store's remove. One nft for any number of addresses: an unban of 1000 used to run 2000.
 */
export function forgetDocument(sets: readonly { family: Family; set: string }[], sources: readonly string[]): string {
  return sets.map(({ family, set }) => {
    const ips = sources.filter((a) => a.includes(':') === (family === 'ipv6'));
    return ips.length > 0 ? removeBatch(set, ips) : '';
  }).join('');
}
