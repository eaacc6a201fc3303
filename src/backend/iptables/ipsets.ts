/**
 * The ban sets. `ipset restore -exist` creates the missing ones in one call and leaves existing ones (and their
 * entries) alone, which is what lets bans survive reload and restart.
 */
import { which } from '../../exec/which.js';
import { readSetHeaders, type SetHeaders } from './ipset-list.js';
import { ApplyError, NotInstalledError } from '../../errors.js';
import { run } from '../../exec/run.js';
import { log } from '../../log.js';
import type { IpsetSpec } from '../../model.js';
import { ipsetCreateLine, ipsetCreateScript } from './ipset-text.js';
import { setWork } from './ipset-headers.js';
import { migrationScript } from './ipset-migrate.js';

/**
 * Brings the planned sets about, given what `ipset list -t` showed before the apply (undefined: unknown). When
 * every set is already there with our settings, which is every restart and reload, no program runs at all.
 */
export async function ensureIpsets(sets: readonly IpsetSpec[], existing: SetHeaders | undefined): Promise<void> {
  const work = setWork(sets, existing);
  if (work.create.length === 0 && work.rebuild.length === 0) return;
  const ipset = which('ipset');
  if (!ipset) {
    throw new NotInstalledError('BAN_MODE=ipset needs the ipset program (install the ipset package, or set BAN_MODE=chain); nothing was changed');
  }
  await rebuildSets(ipset, work.rebuild);
  if (work.create.length === 0) return;
  let result = await run(ipset, ['restore', '-exist'], { input: ipsetCreateScript(work.create) });
  if (result.exitCode !== 0 && /same name already exists/.test(result.stderr)) {
    // A set made with other settings after our listing (or one the listing could not show): rebuild, then retry.
    await rebuildSets(ipset, setWork(work.create, await readSetHeaders()).rebuild);
    result = await run(ipset, ['restore', '-exist'], { input: ipsetCreateScript(work.create) });
  }
  if (result.exitCode !== 0) {
    throw new ApplyError(`creating the ban sets failed, nothing was changed: ${result.stderr.trim() || result.spawnError}`);
  }
}

/** Rebuilds each set with our settings, its entries kept (see ipset-migrate.ts). */
async function rebuildSets(ipset: string, sets: readonly IpsetSpec[]): Promise<void> {
  for (const spec of sets) {
    const saved = await run(ipset, ['save', spec.name]);
    if (saved.exitCode !== 0) throw new ApplyError(`reading ban set ${spec.name} failed, nothing was changed: ${saved.stderr.trim() || saved.spawnError}`);
    const r = await run(ipset, ['restore'], { input: migrationScript(saved.stdout, spec, ipsetCreateLine(spec)) });
    if (r.exitCode !== 0) {
      throw new ApplyError(`ban set ${spec.name} exists with other settings and could not be rebuilt, nothing was changed: ${r.stderr.trim()}`);
    }
    log.warn(`ban set ${spec.name} had other settings; rebuilt with ours, its entries kept`);
  }
}
