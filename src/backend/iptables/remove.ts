/**
 * The seed's `stop`: flush filter and nat (and raw, home of the FTP helper rule), every policy ACCEPT, our chains
 * gone, comms fully open. It must work even when the config is broken or iptables-restore is unhappy, so it falls
 * back to plain per-command calls.
 */
import { which } from '../../exec/which.js';
import type { IptablesPrograms } from './programs.js';
import { run } from '../../exec/run.js';
import { log } from '../../log.js';
import type { Family } from '../../model.js';
import { MANAGED_TABLES, openTable, tablesIn } from './restore-text.js';

export async function openFirewall(backend: IptablesPrograms, families: readonly Family[]): Promise<void> {
  for (const family of families) {
    if (!which(backend.restore[family])) continue;
    const saved = await run(backend.save[family], []);
    const tables = ['filter', ...tablesIn(saved.stdout).filter((t) => t !== 'filter' && t in MANAGED_TABLES)];
    const result = await run(backend.restore[family], ['-w', '5'], { input: tables.map(openTable).join('') });
    if (result.exitCode === 0) continue;
    log.warn(`${backend.restore[family]} failed (${result.stderr.trim()}); opening ${family} rule by rule`);
    await openByCommands(backend.cli[family], tables);
  }
}

async function openByCommands(iptables: string, tables: readonly string[]): Promise<void> {
  for (const table of tables) {
    const chains = MANAGED_TABLES[table] ?? [];
    for (const chain of chains) await run(iptables, ['-w', '5', '-t', table, '-P', chain, 'ACCEPT']);
    await run(iptables, ['-w', '5', '-t', table, '-F']);
    await run(iptables, ['-w', '5', '-t', table, '-X']);
  }
}

/** Removes the ban sets once no rule refers to them; a set still in use elsewhere is left alone. */
export async function destroyIpsets(names: readonly string[]): Promise<void> {
  const ipset = which('ipset');
  if (!ipset) return;
  for (const name of names) await run(ipset, ['destroy', name]);
}
