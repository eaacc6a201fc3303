/**
 * status: exit 0 when our ruleset is loaded, 3 when it is not (LSB). Reads the kernel (iptables-save -c), the
 * hit-rate tables and the ban daemon's pid; no interface discovery, so it stays near Node's start-up floor.
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
import { formatRecent, formatSaved } from '../../status/format.js';
import { readRecentTables } from '../../status/recent.js';
import { isBootRuleset, isLoaded, parseSave } from '../../status/saved.js';
import type { Command } from '../context.js';
import { managedFamilies, resolveHostChoices } from '../pipeline.js';

const status: Command = async (ctx) => {
  let config: Pick<Config, 'backend' | 'ipv6' | 'fail2ban'>;
  try {
    config = loadConfig(ctx.configPath).config;
  } catch (err) {
    log.warn(`config unusable (${(err as Error).message.split('\n')[0]}); showing the kernel's rules anyway`);
    config = { backend: 'auto', ipv6: 'drop', fail2ban: 'auto' };
  }
  const pending = describePendingApply();
  if (pending) log.warn(pending);
  const backend = await detectBackend(config.backend);
  const families = managedFamilies(config as Config);
  const jails = 'services' in config ? jailsOf(resolveHostChoices(config as Config)) : [];
  // Every program status needs runs at once: its latency is the slowest of them, not their sum.
  const [sets, ...saved] = await Promise.all([
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
  if (ctx.json) {
    process.stdout.write(JSON.stringify({
      state, backend: backend.name, banDaemon: daemon, bans,
      families: Object.fromEntries(saved), recent,
    }, null, 2) + '\n');
  } else {
    const lines = [`tsfirewall: ${state} (iptables-${backend.name}; ban daemon: ${daemon})`, formatBanCounts(bans)];
    if (early) lines.splice(1, 0, 'boot-time ruleset only: the rules that need the address load with "tsfirewall start"');
    for (const [family, s] of saved) lines.push(formatSaved(family === 'ipv4' ? 'IPv4' : 'IPv6', s));
    lines.push(formatRecent(recent));
    process.stdout.write(lines.join('\n'));
  }
  return loaded ? 0 : 3;
};

export default status;
