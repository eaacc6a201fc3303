/**
 * The parts of a rollback that restoring the snapshot cannot do by itself: a table or ban set that only the failed
 * ruleset used still exists afterwards (empty and open), and `iptables-save` would show it. Both are removed when
 * that is safe, so the kernel reads exactly as before the apply.
 */
import { which } from '../../exec/which.js';
import type { IptablesPrograms } from './programs.js';
import { run } from '../../exec/run.js';
import { log } from '../../log.js';
import type { Family } from '../../model.js';
import { readSaved, tableNames } from './parse.js';

/** Destroys the named sets that did not exist before the apply (`existed`: what `ipset list -t` showed then). */
export async function destroySetsCreatedSince(names: readonly string[], existed: { has(name: string): boolean }): Promise<void> {
  const ipset = which('ipset');
  if (!ipset) return;
  for (const name of names.filter((n) => !existed.has(n))) await run(ipset, ['destroy', name]);
}

/**
 * nft only (legacy iptables cannot unregister a table): deletes tables absent from `before` that the rollback left
 * empty with every policy ACCEPT, which is all a restore can do to them. Needs the nft program; without it the
 * empty table stays, which filters nothing.
 */
export async function dropTablesCreatedSince(backend: IptablesPrograms, family: Family, before: string, attempted: string): Promise<void> {
  if (backend.flavour !== 'nft') return;
  const had = new Set(tableNames(before));
  const added = tableNames(attempted).filter((t) => !had.has(t));
  if (added.length === 0) return;
  const nft = which('nft');
  if (!nft) {
    log.debug(`nft is not installed: leaving the empty ${added.join(', ')} table(s) the failed ruleset created`);
    return;
  }
  const now = await run(backend.save[family], []);
  for (const table of added) {
    if (!isEmptyOpenTable(now.stdout, table)) continue;
    await run(nft, ['delete', 'table', family === 'ipv4' ? 'ip' : 'ip6', table]);
  }
}

/** True when the saved document has `table` with no rules and only ACCEPT policies (or lacks it altogether). */
export function isEmptyOpenTable(saved: string, table: string): boolean {
  const found = readSaved(saved).find((t) => t.name === table);
  return found === undefined || (found.rules.length === 0 && found.chains.every((c) => c.policy === 'ACCEPT'));
}
