/**
 * The ban sets. `ipset restore -exist` creates the missing ones in one call and leaves existing ones (and their
 * entries) alone, which is what lets bans survive reload and restart. `timeout 0` lets each entry carry its own
 * expiry (fail2ban's ban time), so a ban still ends when fail2ban is not running to lift it.
 */
import { which } from '../discover/backend.js';
import { ApplyError, NotInstalledError } from '../errors.js';
import { run } from '../exec/run.js';
import type { IpsetSpec } from '../model.js';

export function ipsetCreateScript(sets: readonly IpsetSpec[]): string {
  return sets.map((s) => `create ${s.name} ${s.type} family ${s.family} maxelem ${s.maxelem} hashsize 4096 timeout 0\n`).join('');
}

export async function ensureIpsets(sets: readonly IpsetSpec[]): Promise<void> {
  if (sets.length === 0) return;
  const ipset = which('ipset');
  if (!ipset) {
    throw new NotInstalledError('BAN_MODE=ipset needs the ipset program (install the ipset package, or set BAN_MODE=chain); nothing was changed');
  }
  const result = await run(ipset, ['restore', '-exist'], { input: ipsetCreateScript(sets) });
  if (result.exitCode !== 0) {
    throw new ApplyError(`creating the ban sets failed, nothing was changed: ${result.stderr.trim() || result.spawnError}`);
  }
}
