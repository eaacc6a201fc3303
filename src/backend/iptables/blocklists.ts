/**
 * Blocklist sets on iptables: each ipset is replaced by a filled twin in one `ipset restore` (create the twin,
 * empty it in case a killed run left one, fill it, `swap`, destroy the old content), so rules that name the set
 * see the old list or the new one, never an empty set between them.
 */
import { ApplyError, NotInstalledError } from '../../errors.js';
import { run } from '../../exec/run.js';
import { which } from '../../exec/which.js';
import type { IpsetSpec } from '../../model.js';
import { ipsetCreateLine } from './ipset-text.js';

const NETWORK = /^[0-9A-Fa-f:.]+\/\d{1,3}$/;
const twin = (name: string) => `${name}-new`;

export function swapScript(sets: readonly { readonly spec: IpsetSpec; readonly entries: readonly string[] }[]): string {
  return sets.map(({ spec, entries }) => {
    const bad = entries.find((e) => !NETWORK.test(e));
    if (bad !== undefined) throw new ApplyError(`not a network: "${bad}"`);
    const t = twin(spec.name);
    return ipsetCreateLine({ ...spec, name: t }) + `flush ${t}\n` + entries.map((e) => `add ${t} ${e}\n`).join('') +
      `swap ${t} ${spec.name}\ndestroy ${t}\n`;
  }).join('');
}

export async function replaceSets(sets: readonly { readonly spec: IpsetSpec; readonly entries: readonly string[] }[]): Promise<void> {
  if (sets.length === 0) return;
  const ipset = which('ipset');
  if (!ipset) throw new NotInstalledError('blocklists need the ipset program (install the ipset package)');
  const r = await run(ipset, ['restore', '-exist'], { input: swapScript(sets) });
  if (r.exitCode !== 0) throw new ApplyError(`loading the blocklists failed: ${r.stderr.trim() || r.spawnError}`);
}
