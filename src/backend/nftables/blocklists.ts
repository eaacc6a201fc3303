/**
 * Blocklist sets on nftables: every set's elements replaced in one `nft -f` transaction (flush, then the new
 * elements), so a packet meets the old list or the new one, never an empty set between them. The sets are
 * interval sets with auto-merge (render.ts), so overlapping networks of a list are merged by nft itself.
 */
import { ApplyError } from '../../errors.js';
import type { IpsetSpec } from '../../model.js';
import { TABLE_REF } from './layout.js';
import { nft } from './nft.js';
import { ident } from './rules.js';

const CHUNK = 1024;
/** Networks as parse.ts gives them (ADDRESS/PREFIX); anything else would change the document's meaning. */
const NETWORK = /^[0-9A-Fa-f:.]+\/\d{1,3}$/;

export function replaceDocument(sets: readonly { readonly spec: IpsetSpec; readonly entries: readonly string[] }[]): string {
  return sets.map(({ spec, entries }) => {
    const set = ident(spec.name);
    const bad = entries.find((e) => !NETWORK.test(e));
    if (bad !== undefined) throw new ApplyError(`not a network: "${bad}"`);
    const adds = Array.from({ length: Math.ceil(entries.length / CHUNK) }, (_, i) =>
      `add element ${TABLE_REF} ${set} { ${entries.slice(i * CHUNK, (i + 1) * CHUNK).join(', ')} }\n`).join('');
    return `flush set ${TABLE_REF} ${set}\n${adds}`;
  }).join('');
}

export async function replaceSets(sets: readonly { readonly spec: IpsetSpec; readonly entries: readonly string[] }[]): Promise<void> {
  if (sets.length === 0) return;
  const r = await nft(['-f', '-'], replaceDocument(sets));
  if (r.exitCode === 0) return;
  const why = /No such file or directory/.test(r.stderr) ? 'a blocklist set does not exist (is the firewall started?)' : r.stderr.trim() || r.spawnError;
  throw new ApplyError(`loading the blocklists failed, they are as they were: ${why}`);
}
