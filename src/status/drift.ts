/**
 * Whether the loaded ruleset is still what `start` would load: compiled again from the config and the interface's
 * address as they are now (node:os, no program), and compared with the record start left (state/loaded.ts).
 */
import { compile } from '../compile/plan.js';
import type { Config } from '../config/types.js';
import { discoverHost } from '../discover/host.js';
import { driftOf, readLoaded, recordOf, type Drift } from '../state/loaded.js';

/** Undefined when nothing differs, or when it cannot be told (no record, no address to compile for). */
export async function currentDrift(config: Config): Promise<Drift | undefined> {
  const record = readLoaded();
  if (!record) return undefined;
  const host = await discoverHost(config, { scan: false }).catch(() => undefined);
  if (!host) return undefined;
  return driftOf(record, recordOf(host, compile(config, host)), host.iface);
}

/** The status line for a drift: what changed, and the verb that applies it. */
export function describeDrift(drift: Drift): string {
  const cause = drift.reason === 'address'
    ? `${drift.iface ? `${drift.iface}'s` : 'the'} address is now ${drift.now.join(', ')}, the rules were loaded for ${drift.loadedFor.join(', ')}`
    : drift.reason === 'backend'
      ? `the rules were loaded through ${drift.loadedBy}, BACKEND now picks ${drift.now} (their bans move over with them)`
      : 'the config changed since the rules were loaded';
  return `pending: ${cause}; "tsfirewall reload" applies it ("tsfirewall show" prints the new rules)`;
}
