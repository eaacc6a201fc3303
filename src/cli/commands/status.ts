/**
 * status: exit 0 when our ruleset is loaded, 3 when it is not (LSB). Reads the kernel (iptables-save -c), the
 * hit-rate tables and the ban daemon's pid, and says when the loaded rules are no longer what the config and the
 * interface's address give (node:os only: no discovery program), so it stays near Node's start-up floor.
 */
import { banCounts, formatBanCounts, setCountsFor } from '../../bans/counts.js';
import { jailsOf } from '../../bans/jails.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/types.js';
import { detectBackend } from '../../discover/backend.js';
import { run } from '../../exec/run.js';
import { log } from '../../log.js';
import { describePendingApply } from '../../safety/journal.js';
import { daemonState } from '../../services/fail2ban.js';
import { currentDrift, describeDrift } from '../../status/drift.js';
import { formatRecent, formatSaved } from '../../status/format.js';
import { readRecentTables } from '../../status/recent.js';
import { isBootRuleset, isLoaded, parseSave } from '../../status/saved.js';
import type { Command } from '../context.js';
import { managedFamilies, resolveHostChoices } from '../pipeline.js';

/** Enough to read the kernel when the config cannot be used. */
const FALLBACK: Pick<Config, 'backend' | 'ipv6' | 'fail2ban'> = { backend: 'auto', ipv6: 'drop', fail2ban: 'auto' };

const status: Command = async (ctx) => {
  let full: Config | undefined;
  try {
    full = resolveHostChoices(loadConfig(ctx.configPath).config);
  } catch (err) {
    log.warn(`config unusable (${(err as Error).message.split('\n')[0]}); showing the kernel's rules anyway`);
  }
  const config = full ?? FALLBACK;
  const interrupted = describePendingApply();
  if (interrupted) log.warn(interrupted);
  const backend = await detectBackend(config.backend);
  const families = managedFamilies(config as Config);
  const jails = full ? jailsOf(full) : [];
  // Every program status needs runs at once: its latency is the slowest of them, not their sum.
  const [drift, sets, ...saved] = await Promise.all([
    full ? currentDrift(full) : Promise.resolve(undefined),
    setCountsFor(jails),
    ...families.map(async (family) => {
      const r = await run(backend.save[family], ['-c']);
      return [family, parseSave(r.exitCode === 0 ? r.stdout : '')] as const;
    }),
  ]);
  const loaded = isLoaded(saved[0]![1]);
  const recent = readRecentTables();
  const daemon = daemonState(config);
  const bans = banCounts(jails, new Map(saved), sets);
  const degraded = loaded && daemon === 'stopped' && config.fail2ban !== 'no' && jails.length > 0;
  // The boot-time ruleset is up, the address-bound rules and the ban daemon are still to come.
  const early = isBootRuleset(saved[0]![1]);
  const state = !loaded ? 'stopped' : early ? 'early' : degraded ? 'degraded' : 'running';
  // The boot-time ruleset differs from the full one by design; only a complete ruleset can be out of date.
  const outOfDate = loaded && !early ? drift : undefined;
  if (ctx.json) {
    process.stdout.write(JSON.stringify({
      state, backend: backend.name, banDaemon: daemon, pending: outOfDate ?? null, bans,
      families: Object.fromEntries(saved), recent,
    }, null, 2) + '\n');
  } else {
    const lines = [`tsfirewall: ${state} (iptables-${backend.name}; ban daemon: ${daemon})`, formatBanCounts(bans)];
    if (early) lines.splice(1, 0, 'boot-time ruleset only: the rules that need the address load with "tsfirewall start"');
    if (outOfDate) lines.splice(1, 0, describeDrift(outOfDate));
    for (const [family, s] of saved) lines.push(formatSaved(family === 'ipv4' ? 'IPv4' : 'IPv6', s));
    lines.push(formatRecent(recent));
    process.stdout.write(lines.join('\n'));
  }
  return loaded ? 0 : 3;
};

export default status;
