/**
 * stop on iptables: everything tsfirewall owns goes (our chains, our jumps, the ban chains, and the policies of a
 * table still in the old layout, which tsfirewall set), in one --noflush document per family, whatever the config
 * says now; other tools' chains, rules and policies stay as they are. Then the ban sets: those the config names,
 * those our rules named, and those the record of what was loaded accounts for (a set a reload stopped using), once
 * no rule of ours refers to them.
 */
import { run } from '../../exec/run.js';
import { which } from '../../exec/which.js';
import { log } from '../../log.js';
import type { Family } from '../../model.js';
import { loadedSets, readLoaded } from '../../state/loaded.js';
import { setsNamed, transition } from './ownership.js';
import { readSaved } from './parse.js';
import type { IptablesPrograms } from './programs.js';

export async function removeOwned(p: IptablesPrograms, families: readonly Family[], configSets: readonly string[]): Promise<void> {
  const sets = new Set([...configSets, ...recordedSets()]);
  for (const family of families) {
    if (!which(p.restore[family])) continue;
    const saved = await run(p.save[family], []);
    if (saved.exitCode !== 0) {
      log.warn(`cannot read the ${family} ruleset (${saved.stderr.trim() || saved.spawnError}); leaving it as it is`);
      continue;
    }
    const tables = readSaved(saved.stdout);
    for (const name of setsNamed(tables)) sets.add(name);
    const text = transition(tables, new Map());
    if (text === '') continue;
    const result = await run(p.restore[family], ['-w', '5', '--noflush'], { input: text });
    if (result.exitCode === 0) continue;
    log.warn(`${p.restore[family]} failed (${result.stderr.trim() || result.spawnError}); removing ${family} rule by rule`);
    for (const argv of commandsOf(text)) await run(p.cli[family], ['-w', '5', ...argv]);
  }
  await destroyIpsets([...sets]);
}

/**
 * The same document as one iptables command per line, for when iptables-restore itself fails: slower and not
 * atomic, but stop must open what we closed. Our lines hold no quoted spaces (markers are tsfw:<word>).
 */
export function commandsOf(text: string): string[][] {
  let table = 'filter';
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) { table = line.slice(1); continue; }
    const policy = /^:(\S+) (ACCEPT|DROP) /.exec(line);
    if (policy) out.push(['-t', table, '-P', policy[1]!, policy[2]!]);
    else if (/^-[DFXIA] /.test(line)) out.push(['-t', table, ...line.split(' ').map((w) => w.replace(/^"(.*)"$/, '$1'))]);
  }
  return out;
}

/**
 * The ban sets the record of the last load accounts for, when an iptables backend wrote it (ipsets are the same for
 * both flavours; nftables' sets are in its table). Only the loaded plans' own ban sets are named there.
 */
function recordedSets(): readonly string[] {
  const record = readLoaded();
  return record && (record.backend === undefined || record.backend.startsWith('iptables-')) ? loadedSets(record) : [];
}

/** Removes the ban sets once no rule refers to them; a set still in use elsewhere is left alone. */
async function destroyIpsets(names: readonly string[]): Promise<void> {
  const ipset = which('ipset');
  if (!ipset) return;
  for (const name of names) await run(ipset, ['destroy', name]);
}
